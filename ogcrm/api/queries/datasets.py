"""Queries of the analyst: datasets, sources and the canonical fields."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.ids import local_id, page_info, user_pk
from ogcrm.api.pagination import check_first, decode_cursor, encode_cursor
from ogcrm.api.permissions import IsAuthenticated
from ogcrm.api.types.dataset import Dataset, DatasetConnection, DatasetEdge, DatasetFilter
from ogcrm.datasets import catalog, queries

_CURSOR = "dataset"


@strawberry.type(description="A canonical field and the file's column it is read from.")
class MappedField:
    field: str
    column: str


@strawberry.type(description="An agency dataset kind: its reader, mapping and cleaners.")
class Source:
    name: str
    title: str
    agency: str
    reader: str | None
    state: str | None
    mapping: list[MappedField]
    cleaners: list[str]
    precedence: int = strawberry.field(
        description="Higher wins: a value a higher source set is not overwritten."
    )
    plugin: str


@strawberry.type(description="A canonical field a source's mapping can target.")
class Field:
    name: str
    entity: str
    kind: str
    unit: str | None
    description: str


@strawberry.type
class DatasetQueries:
    @strawberry.field(
        description="Datasets you may see, newest first.", permission_classes=[IsAuthenticated]
    )
    async def datasets(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: DatasetFilter | None = None,
    ) -> DatasetConnection:
        ctx = info.context
        check_first(first, ctx.settings.max_page_size)
        key = decode_cursor(_CURSOR, after, (int,)) if after else None
        f = filter or DatasetFilter()
        page = await ctx.read(
            queries.list_datasets,
            ctx.require_principal(),
            where=queries.DatasetFilter(
                state=f.state,
                source=f.source,
                uploaded_by=user_pk(f.uploaded_by, "uploadedBy") if f.uploaded_by else None,
                since=f.since,
            ),
            first=first,
            before_id=key[0] if key else None,
        )
        edges = [
            DatasetEdge(node=Dataset.from_row(d), cursor=encode_cursor(_CURSOR, (d.id,)))
            for d in page.rows
        ]
        return DatasetConnection(
            edges=edges, page_info=page_info(edges, has_next=page.has_next, after=after)
        )

    @strawberry.field(
        description="One dataset, if you may see it.", permission_classes=[IsAuthenticated]
    )
    async def dataset(self, info: Info[Context, None], id: relay.GlobalID) -> Dataset | None:
        row = await info.context.loaders.dataset.load(local_id(id, "Dataset"))
        return Dataset.from_row(row) if row is not None else None

    @strawberry.field(
        description="The agency dataset kinds files are read as.",
        permission_classes=[IsAuthenticated],
    )
    def sources(self, info: Info[Context, None]) -> list[Source]:
        found = catalog.sources(info.context.require_principal())
        return [
            Source(
                **{k: v for k, v in s.items() if k != "fields"},
                mapping=[MappedField(field=f, column=str(c)) for f, c in s["fields"].items()],
            )
            for s in found
        ]

    @strawberry.field(
        description="The canonical fields a mapping can target.",
        permission_classes=[IsAuthenticated],
    )
    def fields(self, info: Info[Context, None]) -> list[Field]:
        return [Field(**f) for f in catalog.fields()]
