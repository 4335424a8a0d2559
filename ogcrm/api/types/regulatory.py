"""Wells, permits, production and an account's history, as the account page shows them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from ogcrm.accounts import holdings
from ogcrm.api.context import Context
from ogcrm.api.ids import gid
from ogcrm.api.nodes import scoped_nodes
from ogcrm.api.types.access import Actor, actor
from ogcrm.db import models


@strawberry.type(description="A well, by its API number (10 digits).")
class Well(relay.Node):
    id: relay.NodeID[int]
    api10: str
    api14: str | None
    name: str | None
    operator_id: relay.GlobalID | None
    state: str | None
    county: str | None
    county_fips: str | None
    field_name: str | None
    latitude: float | None
    longitude: float | None
    datum: str | None
    status: str | None
    well_type: str | None
    spud_date: dt.date | None
    completion_date: dt.date | None
    dataset_id: relay.GlobalID | None = strawberry.field(description="Last written by.")

    @classmethod
    def from_row(cls, row: models.Well) -> Well:
        return cls(
            id=row.id,
            api10=row.api10,
            api14=row.api14,
            name=row.name,
            operator_id=gid("Organization", row.operator_id),
            state=row.state,
            county=row.county,
            county_fips=row.county_fips,
            field_name=row.field_name,
            latitude=row.latitude,
            longitude=row.longitude,
            datum=row.datum,
            status=row.status,
            well_type=row.well_type,
            spud_date=row.spud_date,
            completion_date=row.completion_date,
            dataset_id=gid("Dataset", row.dataset_id),
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        return await scoped_nodes(info, "well", models.Well, node_ids, cls.from_row)


@strawberry.type(description="A drilling permit, unique by number within its agency.")
class Permit(relay.Node):
    id: relay.NodeID[int]
    agency: str
    permit_number: str
    well_id: relay.GlobalID | None
    operator_id: relay.GlobalID | None
    permit_type: str | None
    status: str | None
    received_on: dt.date | None
    issued_on: dt.date | None
    expires_on: dt.date | None
    total_depth_ft: float | None
    state: str | None
    county: str | None
    lease_name: str | None
    dataset_id: relay.GlobalID | None = strawberry.field(description="Last written by.")

    @classmethod
    def from_row(cls, row: models.Permit) -> Permit:
        return cls(
            id=row.id,
            agency=row.agency,
            permit_number=row.permit_number,
            well_id=gid("Well", row.well_id),
            operator_id=gid("Organization", row.operator_id),
            permit_type=row.permit_type,
            status=row.status,
            received_on=row.received_on,
            issued_on=row.issued_on,
            expires_on=row.expires_on,
            total_depth_ft=row.total_depth_ft,
            state=row.state,
            county=row.county,
            lease_name=row.lease_name,
            dataset_id=gid("Dataset", row.dataset_id),
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        return await scoped_nodes(info, "permit", models.Permit, node_ids, cls.from_row)


WellOrder = strawberry.enum(holdings.WellOrder, description="The order of a list of wells.")
PermitOrder = strawberry.enum(
    holdings.PermitOrder, description="The order of a list of permits, by issue date."
)


@strawberry.input(description="Wells matching all of these.")
class WellFilter:
    county: str | None = strawberry.field(
        default=None, description="A county name (REEVES) or 5-digit FIPS code (48389)."
    )
    state: str | None = None
    status: str | None = strawberry.field(default=None, description="As the agency writes it.")

    def read(self) -> holdings.WellFilter:
        return holdings.WellFilter(self.county, self.state, self.status)


@strawberry.type(description="An operator's wells, one page; `totalCount` counts all pages.")
class WellConnection(relay.Connection[Well]):
    count: strawberry.Private[Any] = None

    @strawberry.field(description="How many match, all pages together (one COUNT when asked).")
    async def total_count(self) -> int:
        return int(await self.count())


@strawberry.type(description="An operator's permits, one page; `totalCount` counts all pages.")
class PermitConnection(relay.Connection[Permit]):
    count: strawberry.Private[Any] = None

    @strawberry.field(description="How many match, all pages together (one COUNT when asked).")
    async def total_count(self) -> int:
        return int(await self.count())


@strawberry.type(description="One month of production summed over the operator's wells.")
class MonthlyProduction:
    month: dt.date
    oil_bbl: float
    gas_mcf: float
    water_bbl: float


@strawberry.type(description="A government id of the organization, per agency.")
class AgencyIdentifier:
    agency: str
    identifier: str
    dataset_id: relay.GlobalID | None


@strawberry.type(description="The score at one moment under one rule set.")
class ScoreRecord:
    computed_at: dt.datetime
    rule_set_id: relay.GlobalID | None
    score: float
    priority: float
    contributions: list[float] = strawberry.field(
        description="Each enabled rule's contribution, in the rule set's order."
    )


@strawberry.type(description="A field of the organization changed: by a dataset or a person.")
class FieldChange:
    field: str
    before: JSON | None
    after: JSON | None
    dataset_id: relay.GlobalID | None
    row_number: int | None = strawberry.field(description="The source row in that dataset.")
    at: dt.datetime
    user_pk: strawberry.Private[int | None]

    @strawberry.field(description="The person who changed it (null: a dataset).")
    async def by(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.user_pk)

    @classmethod
    def from_row(cls, row: models.ChangeRecord) -> FieldChange:
        return cls(
            field=row.field,
            before=row.before,
            after=row.after,
            dataset_id=gid("Dataset", row.dataset_id),
            row_number=row.row_number,
            at=row.created_at,
            user_pk=row.user_id,
        )


@strawberry.type(description="What a merge meant for the account (its timeline).")
class TimelineEvent:
    kind: str = strawberry.field(
        description="new_permit, new_well, operator_transfer, production_reported, "
        "contact_details_changed."
    )
    summary: str
    data: JSON
    dataset_id: relay.GlobalID | None
    at: dt.datetime

    @classmethod
    def from_row(cls, row: models.OrganizationEvent) -> TimelineEvent:
        return cls(
            kind=row.kind,
            summary=row.summary,
            data=row.data,
            dataset_id=gid("Dataset", row.dataset_id),
            at=row.created_at,
        )
