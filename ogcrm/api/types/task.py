"""Task: a follow-up someone must do by a date."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.ids import gid
from ogcrm.api.types.access import Actor, actor
from ogcrm.db import models
from ogcrm.db.types import utcnow

strawberry.enum(models.TaskStatus, name="TaskStatus")


@strawberry.type
class Task:
    id: relay.GlobalID
    organization_id: relay.GlobalID
    contact_id: relay.GlobalID | None
    title: str
    description: str
    due_at: dt.datetime | None
    status: models.TaskStatus
    completed_at: dt.datetime | None
    created_at: dt.datetime
    assignee_pk: strawberry.Private[int | None]

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

    @classmethod
    def from_row(cls, row: models.Task) -> Task:
        return cls(
            id=relay.GlobalID("Task", str(row.id)),
            organization_id=relay.GlobalID("Organization", str(row.organization_id)),
            contact_id=gid("Contact", row.contact_id),
            title=row.title,
            description=row.description,
            due_at=row.due_at,
            status=row.status,
            completed_at=row.completed_at,
            created_at=row.created_at,
            assignee_pk=row.assignee_id,
        )
