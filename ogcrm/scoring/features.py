"""Organization features from the scorer plugins: the catalogue rules are checked
against, and one SELECT computing every feature for every organization.

Each scorer's query is grouped per organization; they are left-joined to the
organization table, and a scorer with no row for an organization gives the feature's
default. Rescoring materializes this once into a temporary table that the scoring
statements then read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    MetaData,
    Select,
    Table,
    Text,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.orm import Session

from ogcrm.db.base import Base
from ogcrm.pipeline.contracts import Feature, FeatureContext
from ogcrm.plugins import Registry, default_registry


def catalog(registry: Registry | None = None) -> dict[str, tuple[Feature, str]]:
    """Feature name -> (feature, scorer name), in the scorers' order."""
    registry = registry or default_registry()
    out: dict[str, tuple[Feature, str]] = {}
    for name, scorer in registry.scorers.items():
        for feature in scorer().features():
            out[feature.name] = (feature, name)
    return out


def scorer_columns(
    dialect: str,
    *,
    now: dt.datetime,
    registry: Registry | None = None,
    wanted: frozenset[str] | None = None,
) -> tuple[list[Any], dict[str, Any]]:
    """Each scorer's grouped subquery and, by feature name, its column with the
    feature's default applied: what a caller outer-joins to ``organization`` itself.

    With ``wanted``, only the scorers providing one of those features are asked, and
    they are told which (``FeatureContext.wanted``), so a filter on ``permits_90d``
    aggregates 90 days of permits rather than every feature over a year.
    """
    registry = registry or default_registry()
    tables = Base.metadata.tables
    context = FeatureContext(tables=tables, now=now, dialect=dialect, wanted=wanted)
    subqueries: list[Any] = []
    columns: dict[str, Any] = {}
    for name, scorer_cls in registry.scorers.items():
        scorer = scorer_cls()
        features = [f for f in scorer.features() if context.wants(f.name)]
        if not features:
            continue
        sub = scorer.query(context).subquery(f"scorer_{name}")
        subqueries.append(sub)
        for feature in features:
            value = sub.c[feature.name]
            if feature.default is not None:
                default = "," if feature.type == "list" else feature.default
                value = func.coalesce(value, literal(default))
            columns[feature.name] = value
    return subqueries, columns


def counted_rows(
    feature: str, dialect: str, *, now: dt.datetime, registry: Registry | None = None
) -> Select[Any] | None:
    """The rows ``feature`` counts, one ``organization_id`` each, if its scorer says
    (``Scorer.counted_rows``): what a test of the count against zero reads instead."""
    registry = registry or default_registry()
    entry = catalog(registry).get(feature)
    if entry is None:
        return None
    context = FeatureContext(tables=Base.metadata.tables, now=now, dialect=dialect)
    rows: Select[Any] | None = registry.scorers[entry[1]]().counted_rows(feature, context)
    return rows


def features_select(
    dialect: str,
    *,
    now: dt.datetime,
    registry: Registry | None = None,
    organization_ids: Sequence[int] | None = None,
) -> Select[Any]:
    """``organization_id`` plus one column per feature, one row per organization."""
    org = Base.metadata.tables["organization"]
    subqueries, columns = scorer_columns(dialect, now=now, registry=registry)
    stmt_from: Any = org
    for sub in subqueries:
        stmt_from = stmt_from.outerjoin(sub, sub.c.organization_id == org.c.id)
    stmt = select(
        org.c.id.label("organization_id"), *(c.label(n) for n, c in columns.items())
    ).select_from(stmt_from)
    if organization_ids is not None:
        stmt = stmt.where(org.c.id.in_(list(organization_ids)))
    return stmt


def features_table(name: str, features: Mapping[str, tuple[Feature, str]]) -> Table:
    """A (temporary) table shaped for the features: what scoring statements read."""
    columns = [Column("organization_id", BigInteger, primary_key=True)]
    for feature_name, (feature, _) in features.items():
        columns.append(Column(feature_name, Text if feature.type != "number" else Float))
    return Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])


def materialize(
    session: Session,
    *,
    now: dt.datetime,
    organization_ids: Sequence[int] | None = None,
    registry: Registry | None = None,
) -> Table:
    """Compute every feature into a temporary table for this session; returns it."""
    registry = registry or default_registry()
    bind = session.get_bind()
    features = catalog(registry)
    table = features_table("ogcrm_features", features)
    table.drop(bind=session.connection(), checkfirst=True)
    table.create(bind=session.connection())
    stmt = features_select(
        bind.dialect.name, now=now, registry=registry, organization_ids=organization_ids
    )
    session.execute(insert(table).from_select([c.name for c in table.columns], stmt))
    if bind.dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {table.name}"))  # temp tables get no autovacuum
    return table


def interpreter_data(row: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
    """A features row as the interpreter sees it: absent when NULL, lists as lists."""
    data: dict[str, Any] = {}
    for name, value in row.items():
        if name == "organization_id" or value is None:
            continue
        if types.get(name) == "list":
            data[name] = [v for v in str(value).split(",") if v]
        else:
            data[name] = float(value) if types.get(name) == "number" else value
    return data
