"""Queries of accounts, contacts, users and the audit log: thin resolvers that parse
arguments and call services.

Every resolver that returns data goes through a service that applies the caller's scope
in SQL (``ogcrm.auth.policy``); nothing here filters rows itself.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import strawberry
from sqlalchemy.orm import Session
from strawberry import relay
from strawberry.types import Info

from ogcrm.accounts import contacts, worklist
from ogcrm.api.context import Context
from ogcrm.api.ids import local_id, page_info, user_pk
from ogcrm.api.loaders import AHEAD_FIELDS
from ogcrm.api.pagination import KeyedEdge, check_first, decode_cursor, encode_cursor
from ogcrm.api.permissions import IsAuthenticated
from ogcrm.api.selection import asked_below
from ogcrm.api.types.access import (
    AuditEvent,
    AuditEventConnection,
    AuditEventEdge,
    AuditEventFilter,
    Role,
    User,
)
from ogcrm.api.types.contact import Contact, ContactConnection
from ogcrm.api.types.filters import OrganizationFilter, OrganizationOrder, read_filter
from ogcrm.api.types.organization import Organization, OrganizationConnection
from ogcrm.auth import audit, users

_ORG_CURSOR = "organization"
_CONTACTS = ("edges", "node", "contacts")
_POINTS = ("emails", "phones")
_CONTACT_CURSOR = "contact"
_AUDIT_CURSOR = "audit_event"


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The signed-in user.", permission_classes=[IsAuthenticated])
    async def me(self, info: Info[Context, None]) -> User:
        principal = info.context.require_principal()

        def _load(session: Session) -> User:
            return User.from_row(*users.signed_in(session, principal))

        return await info.context.read(_load)

    @strawberry.field(
        description="Organizations you may see, by priority, highest first (keyset "
        "paginated); `filter` narrows them as on the working list.",
        permission_classes=[IsAuthenticated],
    )
    async def organizations(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        search: str | None = None,
        filter: OrganizationFilter | None = None,
        order_by: OrganizationOrder = OrganizationOrder.PRIORITY,
    ) -> OrganizationConnection:
        return await _organization_page(info, first, after, read_filter(filter, search), order_by)

    @strawberry.field(
        description="The working list: whom to call next, and why. Your accounts and the "
        "prospects you may claim, by priority, narrowed by `filter`.",
        permission_classes=[IsAuthenticated],
    )
    async def prioritized_organizations(
        self,
        info: Info[Context, None],
        filter: OrganizationFilter | None = None,
        order_by: OrganizationOrder = OrganizationOrder.PRIORITY,
        first: int = 50,
        after: str | None = None,
    ) -> OrganizationConnection:
        return await _organization_page(info, first, after, read_filter(filter), order_by)

    @strawberry.field(
        description="One organization, if you may see it.", permission_classes=[IsAuthenticated]
    )
    async def organization(
        self, info: Info[Context, None], id: relay.GlobalID
    ) -> Organization | None:
        row = await info.context.loaders.organization.load(local_id(id, "Organization"))
        return Organization.from_row(row) if row is not None else None

    @strawberry.field(
        description="Contacts you may see, by id; `search` matches name or e-mail.",
        permission_classes=[IsAuthenticated],
    )
    async def contacts(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        search: str | None = None,
        organization_id: relay.GlobalID | None = None,
    ) -> ContactConnection:
        ctx = info.context
        check_first(first, ctx.settings.max_page_size)
        key = decode_cursor(_CONTACT_CURSOR, after, (int,)) if after else None
        page = await ctx.read(
            contacts.list_contacts,
            ctx.require_principal(),
            first=first,
            after_id=key[0] if key else None,
            search=search,
            organization_id=local_id(organization_id, "Organization") if organization_id else None,
        )
        edges = [
            relay.Edge(node=Contact.from_row(row), cursor=encode_cursor(_CONTACT_CURSOR, (row.id,)))
            for row in page.rows
        ]
        return ContactConnection(
            edges=edges, page_info=page_info(edges, has_next=page.has_next, after=after)
        )

    @strawberry.field(
        description="One contact, if you may see it.", permission_classes=[IsAuthenticated]
    )
    async def contact(self, info: Info[Context, None], id: relay.GlobalID) -> Contact | None:
        nodes = await Contact.resolve_nodes(info=info, node_ids=[str(local_id(id, "Contact"))])
        return nodes[0]

    @strawberry.field(description="Users you may see.", permission_classes=[IsAuthenticated])
    async def users(self, info: Info[Context, None]) -> list[User]:
        principal = info.context.require_principal()

        def _load(session: Session) -> list[User]:
            return [
                User.from_row(u, role) for u, role in users.users_with_roles(session, principal)
            ]

        return await info.context.read(_load)

    @strawberry.field(
        description="Roles and their grants (admins).", permission_classes=[IsAuthenticated]
    )
    async def roles(self, info: Info[Context, None]) -> list[Role]:
        principal = info.context.require_principal()

        def _load(session: Session) -> list[Role]:
            return [Role.from_row(r, g) for r, g in users.roles_with_grants(session, principal)]

        return await info.context.read(_load)

    @strawberry.field(
        description="The audit log, newest first (requires read access to audit events).",
        permission_classes=[IsAuthenticated],
    )
    async def audit_events(
        self,
        info: Info[Context, None],
        first: int = 50,
        after: str | None = None,
        filter: AuditEventFilter | None = None,
    ) -> AuditEventConnection:
        ctx = info.context
        check_first(first, ctx.settings.max_page_size)
        key = decode_cursor(_AUDIT_CURSOR, after, (int,)) if after else None
        f = filter or AuditEventFilter()
        where = audit.AuditFilter(
            user_id=user_pk(f.user_id, "userId") if f.user_id is not None else None,
            action=f.action,
            entity=f.entity,
            entity_id=f.entity_id,
            since=f.since,
            until=f.until,
        )
        rows, has_next = await ctx.read(
            audit.list_events,
            ctx.require_principal(),
            first=first,
            before_id=key[0] if key else None,
            where=where,
        )
        edges = [
            AuditEventEdge(
                node=AuditEvent.from_row(r), cursor=encode_cursor(_AUDIT_CURSOR, (r.id,))
            )
            for r in rows
        ]
        return AuditEventConnection(
            edges=edges, page_info=page_info(edges, has_next=has_next, after=after)
        )


_KEY_TYPES: dict[OrganizationOrder, tuple[type | Any, ...]] = {
    OrganizationOrder.PRIORITY: (float | int, int),
    OrganizationOrder.NAME: (str, int),
}


async def _organization_page(
    info: Info[Context, None],
    first: int,
    after: str | None,
    where: worklist.OrganizationFilter,
    order_by: OrganizationOrder,
) -> OrganizationConnection:
    ctx = info.context
    check_first(first, ctx.settings.max_page_size)
    kind = f"{_ORG_CURSOR}:{order_by.value}"
    key = decode_cursor(kind, after, _KEY_TYPES[order_by]) if after else None
    if key is not None and order_by is OrganizationOrder.PRIORITY:
        key = (float(key[0]), key[1])
    principal = ctx.require_principal()
    fields = asked_below(info, ("edges", "node"), AHEAD_FIELDS) or ()
    ahead = ctx.loaders.ahead(fields, asked_below(info, _CONTACTS, _POINTS) or ())

    def read(session: Session) -> worklist.Page:
        page = worklist.list_organizations(
            session,
            principal,
            first=first,
            after=key,
            where=where,
            order=worklist.Order(order_by.value),
        )
        rows = page.rows
        ahead.fetch(
            session,
            [r.id for r in rows],
            owner_ids=[r.owner_id for r in rows],
            snapshot_ids=[r.snapshot_id for r in rows],
        )
        return page

    page = await ctx.read(read)
    await ahead.prime()
    edges = []
    for row in page.rows:
        node = Organization.from_listed(row)
        node.ahead = ahead
        edges.append(KeyedEdge(node, kind, page.key(row)))
    return OrganizationConnection(
        edges=edges,  # type: ignore[arg-type]  # an Edge[Organization] to strawberry
        page_info=page_info(edges, has_next=page.has_next, after=after),
        count_query=partial(worklist.count_organizations, principal=principal, where=where),
    )
