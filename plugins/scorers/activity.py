"""What the sales team has done with the account: contact, pipeline, follow-ups, owner, tags."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import Feature, FeatureContext, Scorer


class ActivityScorer(Scorer):
    name = "activity"

    def features(self) -> list[Feature]:
        return [
            Feature(
                "days_since_last_interaction",
                "number",
                "Whole days since the last call, e-mail, meeting or note (no value: never)",
            ),
            Feature("open_opportunities", "number", "Opportunities not won or lost", 0),
            Feature("overdue_tasks", "number", "Open follow-ups past their due time", 0),
            Feature("owner_id", "number", "The owning user's id (no value: unowned)"),
            Feature("tags", "list", "The account's tags", ""),
        ]

    def query(self, context: FeatureContext) -> Any:
        t = context.tables
        org, interaction, opp, task = (
            t["organization"],
            t["interaction"],
            t["opportunity"],
            t["task"],
        )
        org_tag, tag = t["organization_tag"], t["tag"]
        last = (
            select(interaction.c.organization_id, func.max(interaction.c.occurred_at).label("at"))
            .group_by(interaction.c.organization_id)
            .subquery()
        )
        open_opps = (
            select(opp.c.organization_id, func.count().label("n"))
            .where(_open(opp))
            .group_by(opp.c.organization_id)
            .subquery()
        )
        overdue = (
            select(task.c.organization_id, func.count().label("n"))
            .where(*_overdue(task, context))
            .group_by(task.c.organization_id)
            .subquery()
        )
        tags = (
            select(org_tag.c.organization_id, context.list_of(tag.c.name).label("names"))
            .join(tag, tag.c.id == org_tag.c.tag_id)
            .group_by(org_tag.c.organization_id)
            .subquery()
        )
        return (
            select(
                org.c.id.label("organization_id"),
                context.days_since(last.c.at).label("days_since_last_interaction"),
                func.coalesce(open_opps.c.n, 0).label("open_opportunities"),
                func.coalesce(overdue.c.n, 0).label("overdue_tasks"),
                org.c.owner_id.label("owner_id"),
                tags.c.names.label("tags"),
            )
            .outerjoin(last, last.c.organization_id == org.c.id)
            .outerjoin(open_opps, open_opps.c.organization_id == org.c.id)
            .outerjoin(overdue, overdue.c.organization_id == org.c.id)
            .outerjoin(tags, and_(tags.c.organization_id == org.c.id))
        )

    def counted_rows(self, feature: str, context: FeatureContext) -> Any | None:
        t = context.tables
        opp, task = t["opportunity"], t["task"]
        if feature == "open_opportunities":
            return select(opp.c.organization_id).where(_open(opp))
        if feature == "overdue_tasks":
            return select(task.c.organization_id).where(*_overdue(task, context))
        return None


def _open(opp: Any) -> Any:
    return opp.c.stage.not_in(["won", "lost"])


def _overdue(task: Any, context: FeatureContext) -> tuple[Any, ...]:
    return task.c.status == "open", task.c.due_at < context.now


@hookimpl
def ogcrm_register_scorers() -> list[type[Scorer]]:
    return [ActivityScorer]
