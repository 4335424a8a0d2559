"""Tags: rename and merge the vocabulary; tag and untag organizations and contacts in
bulk."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from ogcrm.accounts import tags
from ogcrm.api.context import Context
from ogcrm.api.errors import UserErrors, guarded
from ogcrm.api.ids import local_id


@strawberry.type(description="A tag, after the change.")
class TagName:
    name: str


@strawberry.type(description="A record and its tags after the change.")
class TaggedRecord:
    id: relay.GlobalID
    tags: list[str]


@strawberry.type(description="Each record changed, with its tags after the change.")
class TaggedRecords:
    records: list[TaggedRecord]


TagResult = Annotated[TagName | UserErrors, strawberry.union("TagResult")]
TaggedResult = Annotated[TaggedRecords | UserErrors, strawberry.union("TaggedResult")]


async def _tag(
    info: Info[Context, None],
    kind: str,
    service: Any,
    ids: list[relay.GlobalID],
    add: list[str] | None,
    remove: list[str] | None,
) -> Any:
    """Run a bulk tagging ``service`` on records of ``kind``; their tags after."""
    ctx = info.context

    async def _call() -> TaggedRecords:
        found = await ctx.write(
            service,
            ctx.require_principal(),
            [local_id(v, kind, field="ids") for v in ids],
            add=add or [],
            remove=remove or [],
        )
        return TaggedRecords(
            records=[
                TaggedRecord(id=relay.GlobalID(kind, str(k)), tags=v) for k, v in found.items()
            ]
        )

    return await guarded(ctx, _call)


@strawberry.type
class TagMutations:
    @strawberry.mutation(description="Rename a tag everywhere it is used (managers, admins).")
    async def rename_tag(self, info: Info[Context, None], name: str, to: str) -> TagResult:
        ctx = info.context

        async def _call() -> TagName:
            return TagName(name=await ctx.write(tags.rename_tag, ctx.require_principal(), name, to))

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Merge tags into one: their records carry `into` instead.")
    async def merge_tags(self, info: Info[Context, None], names: list[str], into: str) -> TagResult:
        ctx = info.context

        async def _call() -> TagName:
            return TagName(
                name=await ctx.write(tags.merge_tags, ctx.require_principal(), names, into)
            )

        return await guarded(ctx, _call)

    @strawberry.mutation(
        description="Tag and untag organizations you may change, up to 500 at once."
    )
    async def tag_organizations(
        self,
        info: Info[Context, None],
        ids: list[relay.GlobalID],
        add: list[str] | None = None,
        remove: list[str] | None = None,
    ) -> TaggedResult:
        return await _tag(info, "Organization", tags.tag_organizations, ids, add, remove)

    @strawberry.mutation(description="Tag and untag contacts you may change, up to 500 at once.")
    async def tag_contacts(
        self,
        info: Info[Context, None],
        ids: list[relay.GlobalID],
        add: list[str] | None = None,
        remove: list[str] | None = None,
    ) -> TaggedResult:
        return await _tag(info, "Contact", tags.tag_contacts, ids, add, remove)
