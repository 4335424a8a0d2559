"""Interaction: a call, e-mail, meeting or note logged against an organization."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay

from ogcrm.db import models

# strawberry.enum marks the model's own class: fields are annotated with it directly
strawberry.enum(models.InteractionKind, name="InteractionKind")


@strawberry.type
class Interaction:
    id: relay.GlobalID
    organization_id: relay.GlobalID
    contact_id: relay.GlobalID | None
    kind: models.InteractionKind
    occurred_at: dt.datetime
    subject: str | None
    notes: str

    @classmethod
    def from_row(cls, row: models.Interaction) -> Interaction:
        return cls(
            id=relay.GlobalID("Interaction", str(row.id)),
            organization_id=relay.GlobalID("Organization", str(row.organization_id)),
            contact_id=relay.GlobalID("Contact", str(row.contact_id))
            if row.contact_id is not None
            else None,
            kind=row.kind,
            occurred_at=row.occurred_at,
            subject=row.subject,
            notes=row.notes,
        )
