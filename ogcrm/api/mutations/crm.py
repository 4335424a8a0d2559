"""Organizations and contacts: create, claim, reassign, edit, delete."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from ogcrm.accounts import contacts, interactions, organizations
from ogcrm.api.context import Context
from ogcrm.api.errors import UserErrors, guarded
from ogcrm.api.ids import local_id, user_pk
from ogcrm.api.types.contact import Contact
from ogcrm.api.types.interaction import Interaction
from ogcrm.api.types.organization import Organization
from ogcrm.db import models
from ogcrm.errors import InvalidInput

OrganizationResult = Annotated[Organization | UserErrors, strawberry.union("OrganizationResult")]
ContactResult = Annotated[Contact | UserErrors, strawberry.union("ContactResult")]
InteractionResult = Annotated[Interaction | UserErrors, strawberry.union("InteractionResult")]


@strawberry.type
class DeletePayload:
    id: strawberry.ID


DeleteResult = Annotated[DeletePayload | UserErrors, strawberry.union("DeleteResult")]


@strawberry.input
class CreateOrganizationInput:
    name: str
    state: str | None = None
    city: str | None = None
    phone: str | None = None
    website: str | None = None


@strawberry.input(
    description="Only the fields given change (null clears one); values go through the "
    "import's cleaners, and each change is recorded as yours, which an import never "
    "overwrites."
)
class UpdateOrganizationInput:
    name: str | None = strawberry.UNSET
    status: models.OrganizationStatus | None = strawberry.UNSET
    street: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    state: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    aliases: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the stored list."
    )
    identifiers: list[IdentifierInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Added to the account (per agency)."
    )


@strawberry.input
class IdentifierInput:
    agency: str
    identifier: str


@strawberry.type(description="What a cleaner changed in a value you typed.")
class FieldCorrection:
    field: str
    original: str
    corrected: str | None
    cleaner: str
    message: str


@strawberry.type
class UpdateOrganizationPayload:
    organization: Organization
    corrections: list[FieldCorrection]


UpdateOrganizationResult = Annotated[
    UpdateOrganizationPayload | UserErrors, strawberry.union("UpdateOrganizationResult")
]


@strawberry.input
class CreateContactInput:
    organization_id: relay.GlobalID
    full_name: str
    title: str | None = None
    emails: list[str] = strawberry.field(default_factory=list)
    phones: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="Only the fields given change; lists replace the stored ones.")
class UpdateContactInput:
    full_name: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    emails: list[str] | None = strawberry.UNSET
    phones: list[str] | None = strawberry.UNSET


@strawberry.input
class LogInteractionInput:
    organization_id: relay.GlobalID
    kind: models.InteractionKind
    occurred_at: dt.datetime | None = strawberry.field(
        default=None, description="When it happened (with a time zone); now if omitted."
    )
    subject: str | None = None
    notes: str = ""
    contact_id: relay.GlobalID | None = None


def _given(value: object) -> bool:
    return value is not strawberry.UNSET


@strawberry.type
class CrmMutations:
    @strawberry.mutation(description="Add an organization (a sales rep's becomes their own).")
    async def create_organization(
        self, info: Info[Context, None], input: CreateOrganizationInput
    ) -> OrganizationResult:
        ctx = info.context

        async def _call() -> Organization:
            row = await ctx.write(
                organizations.create_organization,
                ctx.require_principal(),
                name=input.name,
                state=input.state,
                city=input.city,
                phone=input.phone,
                website=input.website,
            )
            return Organization.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Change an account's details, cleaned as an import would.")
    async def update_organization(
        self, info: Info[Context, None], id: relay.GlobalID, input: UpdateOrganizationInput
    ) -> UpdateOrganizationResult:
        ctx = info.context
        simple = ("street", "city", "state", "postal_code", "phone", "website")
        fields = {k: getattr(input, k) for k in simple if _given(getattr(input, k))}

        async def _call() -> UpdateOrganizationPayload:
            if _given(input.name) and input.name is None:
                raise InvalidInput("name cannot be cleared", field="name")
            row, corrections = await ctx.write(
                organizations.update_organization,
                ctx.require_principal(),
                local_id(id, "Organization"),
                name=input.name if _given(input.name) else None,
                status=input.status if _given(input.status) else None,
                aliases=input.aliases
                if _given(input.aliases) and input.aliases is not None
                else None,
                identifiers={i.agency: i.identifier for i in input.identifiers}
                if _given(input.identifiers) and input.identifiers
                else None,
                **fields,
            )
            return UpdateOrganizationPayload(
                organization=Organization.from_row(row),
                corrections=[
                    FieldCorrection(
                        field=c.field,
                        original=c.original,
                        corrected=None if c.corrected is None else str(c.corrected),
                        cleaner=c.cleaner,
                        message=c.message,
                    )
                    for c in corrections
                ],
            )

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Add and remove tags of an account; returns it.")
    async def tag_organization(
        self,
        info: Info[Context, None],
        id: relay.GlobalID,
        add: list[str] | None = None,
        remove: list[str] | None = None,
    ) -> OrganizationResult:
        ctx = info.context
        org_id = local_id(id, "Organization")

        async def _call() -> Organization:
            def tag_and_reload(session: Any, principal: Any) -> Any:
                organizations.set_tags(
                    session, principal, org_id, add=add or (), remove=remove or ()
                )
                return organizations.get_organization(session, principal, org_id)

            row = await ctx.write(tag_and_reload, ctx.require_principal())
            return Organization.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Take an unowned prospect as your own account.")
    async def claim_organization(
        self, info: Info[Context, None], id: relay.GlobalID
    ) -> OrganizationResult:
        ctx = info.context

        async def _call() -> Organization:
            row = await ctx.write(
                organizations.claim_organization,
                ctx.require_principal(),
                local_id(id, "Organization"),
            )
            return Organization.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Give an organization to another user, or to nobody (null).")
    async def assign_organization(
        self, info: Info[Context, None], id: relay.GlobalID, owner_id: relay.GlobalID | None
    ) -> OrganizationResult:
        ctx = info.context

        async def _call() -> Organization:
            row = await ctx.write(
                organizations.assign_organization,
                ctx.require_principal(),
                local_id(id, "Organization"),
                user_pk(owner_id, "ownerId") if owner_id is not None else None,
            )
            return Organization.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Add a contact to an organization you may change.")
    async def create_contact(
        self, info: Info[Context, None], input: CreateContactInput
    ) -> ContactResult:
        ctx = info.context

        async def _call() -> Contact:
            row = await ctx.write(
                contacts.create_contact,
                ctx.require_principal(),
                organization_id=local_id(input.organization_id, "Organization"),
                full_name=input.full_name,
                title=input.title,
                emails=input.emails,
                phones=input.phones,
            )
            return Contact.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Change a contact.")
    async def update_contact(
        self, info: Info[Context, None], id: relay.GlobalID, input: UpdateContactInput
    ) -> ContactResult:
        ctx = info.context
        changes: dict[str, object] = {}
        if _given(input.full_name) and input.full_name is not None:
            changes["full_name"] = input.full_name
        if _given(input.title):
            changes["title"] = input.title
        if _given(input.emails):
            changes["emails"] = input.emails or []
        if _given(input.phones):
            changes["phones"] = input.phones or []

        async def _call() -> Contact:
            row = await ctx.write(
                contacts.update_contact,
                ctx.require_principal(),
                local_id(id, "Contact"),
                **changes,
            )
            return Contact.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Delete a contact.")
    async def delete_contact(self, info: Info[Context, None], id: relay.GlobalID) -> DeleteResult:
        ctx = info.context

        async def _call() -> DeletePayload:
            await ctx.write(
                contacts.delete_contact, ctx.require_principal(), local_id(id, "Contact")
            )
            return DeletePayload(id=strawberry.ID(str(id)))

        return await guarded(ctx, _call)

    @strawberry.mutation(
        description="Log a call, e-mail, meeting or note; the organization is rescored."
    )
    async def log_interaction(
        self, info: Info[Context, None], input: LogInteractionInput
    ) -> InteractionResult:
        ctx = info.context

        async def _call() -> Interaction:
            row = await ctx.write(
                interactions.log_interaction,
                ctx.require_principal(),
                organization_id=local_id(input.organization_id, "Organization"),
                kind=input.kind,
                occurred_at=input.occurred_at,
                subject=input.subject,
                notes=input.notes,
                contact_id=local_id(input.contact_id, "Contact")
                if input.contact_id is not None
                else None,
            )
            return Interaction.from_row(row)

        return await guarded(ctx, _call)
