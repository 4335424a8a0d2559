"""Contact: a person at an organization. Reading e-mails or phones is audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.db import models

if TYPE_CHECKING:
    from ogcrm.api.types.organization import Organization


def _contact_tags(session: Any, contact_ids: Any) -> dict[int, list[str]]:
    from ogcrm.accounts import tags

    return tags.tags_of_contacts(session, contact_ids)


@strawberry.type
class Contact(relay.Node):
    id: relay.NodeID[int]
    full_name: str
    title: str | None
    organization_id: strawberry.Private[int]
    #: E-mails and phones already read (and audited) with the contact, when the query
    #: that listed it asked for them.
    points: strawberry.Private[dict[str, list[str]] | None] = None

    @classmethod
    def from_row(cls, row: Any, points: dict[str, list[str]] | None = None) -> Contact:
        """From a contact, or a row of its id, organization_id, full_name and title."""
        return cls(
            id=row.id,
            full_name=row.full_name,
            title=row.title,
            organization_id=row.organization_id,
            points=points,
        )

    # Not ``async``: when the points came with the contact this is a plain value, and
    # otherwise the loader's future, which graphql-core awaits like a coroutine.
    @strawberry.field(description="E-mail addresses, primary first. Reading them is audited.")
    def emails(self, info: Info[Context, None]) -> list[str]:
        if self.points is not None and "emails" in self.points:
            return self.points["emails"]
        return info.context.loaders.contact_emails.load(self.id)  # type: ignore[return-value]

    @strawberry.field(description="Phone numbers (E.164), primary first. Reading them is audited.")
    def phones(self, info: Info[Context, None]) -> list[str]:
        if self.points is not None and "phones" in self.points:
            return self.points["phones"]
        return info.context.loaders.contact_phones.load(self.id)  # type: ignore[return-value]

    @strawberry.field(description="Its tags, alphabetically.")
    async def tags(self, info: Info[Context, None]) -> list[str]:
        return list(await info.context.loaders.per_org(_contact_tags).load(self.id))

    @strawberry.field(description="The organization, if you may see it.")
    async def organization(
        self, info: Info[Context, None]
    ) -> Annotated[Organization, strawberry.lazy("ogcrm.api.types.organization")] | None:
        from ogcrm.api.types.organization import Organization

        row = await info.context.loaders.organization.load(self.organization_id)
        return Organization.from_row(row) if row is not None else None

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        from ogcrm.accounts import contacts

        ids = [int(i) for i in node_ids]
        principal = info.context.require_principal()

        def _load(session: Any) -> dict[int, models.Contact]:
            page = contacts.list_contacts(session, principal, first=len(ids), ids=ids)
            return {row.id: row for row in page.rows}

        found = await info.context.read(_load)
        return [cls.from_row(found[i]) if i in found else None for i in ids]


@strawberry.type(description="Contacts by id.")
class ContactConnection(relay.Connection[Contact]):
    pass
