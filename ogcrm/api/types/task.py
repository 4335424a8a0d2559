"""Task: a follow-up someone must do by a date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.ids import gid
from ogcrm.api.nodes import scoped_nodes
from ogcrm.api.types.access import Actor, actor
from ogcrm.db import models
from ogcrm.db.types import utcnow

strawberry.enum(models.TaskStatus, name="TaskStatus")


@strawberry.type(description="A follow-up someone must do, on an account.")
class Task(relay.Node):
    id: relay.NodeID[int]
    organization_id: relay.GlobalID
    contact_id: relay.GlobalID | None
    opportunity_id: relay.GlobalID | None
    title: str
    description: str
    due_at: dt.datetime | None
    status: models.TaskStatus
    completed_at: dt.datetime | None
    created_at: dt.datetime
    opened_by_rule: str | None = strawberry.field(
        description="The import's follow-up rule that opened it (null: a person did)."
    )
    dataset_id: relay.GlobalID | None = strawberry.field(
        description="The dataset whose merge set that rule off."
    )
    reminded_at: dt.datetime | None = strawberry.field(
        description="When its assignee was told it falls due (once)."
    )
    assignee_pk: strawberry.Private[int | None]
    creator_pk: strawberry.Private[int | None]

    @strawberry.field(description="Open and past its due time.")
    def overdue(self) -> bool:
        return (
            self.status is models.TaskStatus.OPEN
            and self.due_at is not None
            and self.due_at < utcnow()
        )

    @strawberry.field(description="Who must do it.")
    async def assignee(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.assignee_pk)

    @strawberry.field(description="Who opened it (null: a follow-up rule).")
    async def created_by(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.creator_pk)

    @classmethod
    def from_row(cls, row: models.Task) -> Task:
        return cls(
            id=row.id,
            organization_id=relay.GlobalID("Organization", str(row.organization_id)),
            contact_id=gid("Contact", row.contact_id),
            opportunity_id=gid("Opportunity", row.opportunity_id),
            title=row.title,
            description=row.description,
            due_at=row.due_at,
            status=row.status,
            completed_at=row.completed_at,
            created_at=row.created_at,
            opened_by_rule=row.opened_by_rule,
            dataset_id=gid("Dataset", row.dataset_id),
            reminded_at=row.reminded_at,
            assignee_pk=row.assignee_id,
            creator_pk=row.created_by_id,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        return await scoped_nodes(info, "task", models.Task, node_ids, cls.from_row)


@strawberry.type(description="Tasks, soonest due first; `totalCount` counts all pages.")
class TaskConnection(relay.Connection[Task]):
    count: strawberry.Private[Any] = None

    @strawberry.field(description="How many match, all pages together (one COUNT when asked).")
    async def total_count(self) -> int:
        return int(await self.count())
