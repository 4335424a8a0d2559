"""Each user's dashboard: the KPIs and saved reports they chose, in order, or their
role's default until they choose."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ogcrm.auth import audit
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Dashboard
from ogcrm.errors import InvalidInput
from ogcrm.reports import kpis
from ogcrm.reports.definitions import get_report

MAX_TILES = 24

#: What each role sees first.
DEFAULTS: dict[str, tuple[str, ...]] = {
    "sales": ("follow_ups", "pipeline_by_stage", "interactions_per_rep_week", "score_movers"),
    "manager": ("pipeline_by_stage", "pipeline_by_close_month", "win_rate_by_owner",
                "interactions_per_rep_week", "follow_ups", "revenue_by_product_month",
                "service_resolution"),
    "analyst": ("rows_by_outcome", "issues_by_cleaner", "permits_by_county_month",
                "score_distribution"),
    "admin": ("rows_by_outcome", "score_distribution", "pipeline_by_stage", "follow_ups"),
    "viewer": ("permits_by_county_month", "active_wells_by_operator"),
}  # fmt: skip


@dataclass(frozen=True)
class Tile:
    """A KPI by name or a saved report by id, with an optional title of its own."""

    kpi: str | None = None
    report_id: int | None = None
    title: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kpi": self.kpi} if self.kpi else {"report": self.report_id}
        if self.title:
            out["title"] = self.title
        return out


@dataclass(frozen=True)
class Layout:
    tiles: Sequence[Tile]
    #: The role's default (the user never saved one).
    is_default: bool


def _tile(raw: Mapping[str, Any]) -> Tile:
    return Tile(raw.get("kpi"), raw.get("report"), raw.get("title"))


def layout(session: Session, principal: Principal) -> Layout:
    row = session.get(Dashboard, principal.user_id) if principal.user_id else None
    if row is not None:
        return Layout([_tile(t) for t in row.tiles], False)
    names = DEFAULTS.get(principal.role, DEFAULTS["viewer"])
    return Layout([Tile(kpi=n) for n in names], True)


def save_layout(session: Session, principal: Principal, tiles: Sequence[Tile]) -> Layout:
    """Replace the principal's dashboard; every tile must be a known KPI or a report
    they may read (``tiles[i]`` names the one that is not)."""
    if principal.user_id is None:
        raise InvalidInput("only a signed-in user has a dashboard", field="tiles")
    if len(tiles) > MAX_TILES:
        raise InvalidInput(f"at most {MAX_TILES} tiles", field="tiles")
    for i, tile in enumerate(tiles):
        field = f"tiles[{i}]"
        if (tile.kpi is None) == (tile.report_id is None):
            raise InvalidInput("a tile is a KPI or a report", field=field)
        if tile.kpi is not None and tile.kpi not in kpis.ALL:
            raise InvalidInput(f"no KPI {tile.kpi!r}", field=f"{field}.kpi")
        if tile.report_id is not None:
            get_report(session, principal, tile.report_id)  # NotFound unless readable
        if tile.title is not None and len(tile.title) > 200:
            raise InvalidInput("a title is at most 200 characters", field=f"{field}.title")
    stored = [t.as_json() for t in tiles]
    row = session.get(Dashboard, principal.user_id)
    if row is None:
        try:  # a first save from two tabs at once: the second becomes an update
            with session.begin_nested():
                session.add(Dashboard(user_id=principal.user_id, tiles=stored))
        except IntegrityError:
            row = session.get(Dashboard, principal.user_id, populate_existing=True)
    if row is not None:
        row.tiles = stored
    audit.record(session, principal, "dashboard.saved", entity="dashboard",
                 entity_id=principal.user_id, tiles=len(tiles))  # fmt: skip
    return Layout(list(tiles), False)


def reset_layout(session: Session, principal: Principal) -> Layout:
    row = session.get(Dashboard, principal.user_id) if principal.user_id else None
    if row is not None:
        session.delete(row)
    session.flush()
    return layout(session, principal)
