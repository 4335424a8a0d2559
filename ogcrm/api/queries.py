"""The Query root: thin resolvers that parse arguments and call services."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.types import Info

import ogcrm
from ogcrm.api.context import Context
from ogcrm.api.pagination import check_first, decode_cursor, encode_cursor
from ogcrm.api.types.organization import Organization, OrganizationConnection
from ogcrm.services import organizations

_ORG_CURSOR = "organization"


@strawberry.type
class Query:
    @strawberry.field(description="The running ogcrm's version.")
    def version(self) -> str:
        return ogcrm.__version__

    @strawberry.field(description="Organizations by priority, highest first (keyset paginated).")
    async def organizations(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
    ) -> OrganizationConnection:
        ctx = info.context
        check_first(first, ctx.settings.max_page_size)
        key = decode_cursor(_ORG_CURSOR, after, (float | int, int)) if after else None
        page = await ctx.read(
            organizations.list_by_priority,
            first=first,
            after=(float(key[0]), key[1]) if key else None,
        )
        edges = [
            relay.Edge(
                node=Organization.from_row(row),
                cursor=encode_cursor(_ORG_CURSOR, page.key(row)),
            )
            for row in page.rows
        ]
        return OrganizationConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=page.has_next,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
