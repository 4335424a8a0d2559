"""Scoring organizations with a rule set: set-based, explained, kept in history.

Priority = the sum of the rules' contributions (weight when a boolean rule is true,
weight x value for a numeric one), unless a manual override with a reason is in force
(no expiry, or one in the future). One rescoring is a handful of statements whatever the
number of organizations:

1. the features, computed by the scorer plugins, into a temporary table;
2. the scoring statement: every enabled rule compiled to SQL, its contribution, the
   total and the explanation (the rules that added something), into another;
3. a ScoreSnapshot for every organization whose score or explanation changed;
4. one UPDATE of the organizations' score, priority and explanation.

Nothing here writes when previewing a draft.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from ogcrm.db.models import Organization, Rule, RuleSet, RuleSetStatus, ScoreSnapshot
from ogcrm.db.types import JSONType, utcnow
from ogcrm.rules.compiler import Unsupported, compile_rule, contribution_sql
from ogcrm.rules.features import catalog, materialize
from ogcrm.rules.ruleset import RuleSetSpec, RuleSpec


class NoActiveRuleSet(LookupError):
    pass


@dataclass(frozen=True)
class RescoreResult:
    rule_set_id: int | None
    organizations: int
    snapshots: int
    seconds: dict[str, float]


def enabled_rules(spec_or_rows: Sequence[RuleSpec] | Sequence[Rule]) -> list[RuleSpec]:
    return [
        RuleSpec(r.name, r.logic, float(r.weight), r.description, r.enabled)
        for r in spec_or_rows
        if r.enabled
    ]


def feature_types() -> dict[str, str]:
    """Feature name -> type, from the scorer plugins."""
    return {name: feature.type for name, (feature, _) in catalog().items()}


def score_select(
    rules: Sequence[RuleSpec], features: Table, dialect: str, types: dict[str, str]
) -> Select[Any]:
    """``organization_id``, one contribution column per rule (``c0``...), ``total`` and
    ``explanation`` (JSON text of the non-zero contributions). ``types`` gives each
    feature column's type (number, string, list)."""
    columns = {c.name: (c, types[c.name]) for c in features.columns if c.name != "organization_id"}
    contributions = []
    for i, rule in enumerate(rules):
        try:
            compiled = compile_rule(rule.logic, columns, dialect)
        except Unsupported as exc:
            raise Unsupported(exc.path, f"rule {rule.name!r}: {exc.reason}") from None
        contributions.append(contribution_sql(compiled, rule.weight).label(f"c{i}"))
    total = sum((c for c in contributions), literal(0.0, Float)) if contributions else literal(0.0)
    return select(
        features.c.organization_id,
        *contributions,
        total.label("total"),
        _explanation(rules, contributions, dialect).label("explanation"),
    )


def _explanation(rules: Sequence[RuleSpec], contributions: list[Any], dialect: str) -> Any:
    """JSON text ``[{"rule": ..., "contribution": ...}, ...]`` of the rules that added
    something, built in SQL (rules that added nothing are left out)."""
    if not contributions:
        return literal("[]")
    parts = []
    for rule, c in zip(rules, contributions, strict=True):
        head = '{"rule": ' + json.dumps(rule.name) + ', "contribution": '
        value = cast(c, String) if dialect != "sqlite" else c
        parts.append(
            case((c != 0, literal(head).concat(value).concat(literal("},"))), else_=literal(""))
        )
    body = parts[0]
    for p in parts[1:]:
        body = body.concat(p)
    return literal("[").concat(func.rtrim(body, ",")).concat(literal("]"))


def _scores_table(n_rules: int) -> Table:
    """Where one scoring statement leaves its results; the explanation is parsed into
    the JSON column type once here, not once per statement that reads it."""
    return Table(
        "ogcrm_scores",
        MetaData(),
        Column("organization_id", BigInteger, primary_key=True),
        *(Column(f"c{i}", Float) for i in range(n_rules)),
        Column("total", Float),
        Column("explanation", JSONType),
        prefixes=["TEMPORARY"],
    )


def _explanation_as_json(scoring: Select[Any]) -> Select[Any]:
    """The scoring SELECT with its explanation text cast to JSONB (PostgreSQL)."""
    sub = scoring.subquery("scored")
    return select(
        *[c for c in sub.c if c.name != "explanation"],
        cast(sub.c.explanation, JSONType).label("explanation"),
    )


def active_rule_set(session: Session) -> RuleSet | None:
    return session.scalars(select(RuleSet).where(RuleSet.status == RuleSetStatus.ACTIVE)).first()


def rules_of(session: Session, rule_set_id: int) -> list[RuleSpec]:
    rows = session.scalars(
        select(Rule).where(Rule.rule_set_id == rule_set_id).order_by(Rule.position)
    ).all()
    return enabled_rules(rows)


def rescore(
    session: Session,
    *,
    rule_set_id: int | None = None,
    organization_ids: Sequence[int] | None = None,
    features: Table | None = None,
    types: dict[str, str] | None = None,
    now: dt.datetime | None = None,
) -> RescoreResult:
    """Score the given organizations (all by default) with a rule set (the active one
    by default) and persist scores, priorities, explanations and snapshots.

    ``features`` may name an already-filled table of features (benchmarks, tests);
    otherwise the scorers compute them (``types`` then defaults to theirs).
    """
    now = now or utcnow()
    timings: dict[str, float] = {}
    if rule_set_id is None:
        active = active_rule_set(session)
        if active is None:
            raise NoActiveRuleSet("no rule set is active; activate one first")
        rule_set_id = active.id
    rules = rules_of(session, rule_set_id)
    dialect = session.get_bind().dialect.name
    t = time.perf_counter()
    if features is None:
        features = materialize(session, now=now, organization_ids=organization_ids)
    types = feature_types() if types is None else types
    timings["features"] = time.perf_counter() - t
    t = time.perf_counter()
    scores = _scores_table(len(rules))
    connection = session.connection()
    scores.drop(bind=connection, checkfirst=True)
    scores.create(bind=connection)
    scoring = score_select(rules, features, dialect, types)
    if organization_ids is not None:
        scoring = scoring.where(features.c.organization_id.in_(list(organization_ids)))
    if dialect == "postgresql":
        scoring = _explanation_as_json(scoring)
        # scores are recomputable: a crash losing the last commit costs a rescore, so
        # the commit need not wait for the WAL flush
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    session.execute(insert(scores).from_select([c.name for c in scores.columns], scoring))
    if dialect == "postgresql":
        # temporary tables are never auto-analyzed; without statistics the planner
        # joins a million scores to organizations with a nested loop
        session.execute(text(f"ANALYZE {scores.name}"))
    timings["scoring"] = time.perf_counter() - t
    t = time.perf_counter()
    org = Organization.__table__
    explanation = (
        scores.c.explanation
        if dialect == "sqlite"
        else cast(scores.c.explanation, org.c.score_explanation.type)
    )
    in_force = and_(
        org.c.override_priority.is_not(None),
        or_(org.c.override_expires_at.is_(None), org.c.override_expires_at > now),
    )
    priority = case((in_force, org.c.override_priority), else_=scores.c.total)
    changed = or_(
        org.c.scored_at.is_(None),
        org.c.score != scores.c.total,
        cast(org.c.score_explanation, Text) != cast(explanation, Text)
        if dialect == "sqlite"
        else org.c.score_explanation.op("IS DISTINCT FROM")(explanation),
    )
    snapshot = insert(ScoreSnapshot.__table__).from_select(
        ["organization_id", "rule_set_id", "score", "priority", "contributions", "computed_at"],
        select(
            scores.c.organization_id,
            literal(rule_set_id),
            scores.c.total,
            priority,
            explanation,
            literal(now, org.c.scored_at.type),
        )
        .join(org, org.c.id == scores.c.organization_id)
        .where(changed),
    )
    # rowcount of an INSERT is only kept when asked for (SQLAlchemy 2.0.28+)
    snapshots = connection.execute(snapshot.execution_options(preserve_rowcount=True)).rowcount
    timings["snapshots"] = time.perf_counter() - t
    t = time.perf_counter()
    result = session.execute(
        update(org)
        .where(org.c.id == scores.c.organization_id)
        .values(
            score=scores.c.total,
            priority=priority,
            score_explanation=explanation,
            scored_at=now,
        )
    )
    timings["update"] = time.perf_counter() - t
    scores.drop(bind=connection)
    return RescoreResult(rule_set_id, result.rowcount, snapshots, timings)


@dataclass(frozen=True)
class Ranked:
    organization_id: int
    name: str
    score: float
    explanation: list[dict[str, Any]]
    current: float | None = None

    @property
    def change(self) -> float:
        return self.score - (self.current or 0.0)


@dataclass(frozen=True)
class Preview:
    top: list[Ranked]
    up: list[Ranked]
    down: list[Ranked]
    organizations: int


def preview(
    session: Session, spec: RuleSetSpec, *, top: int = 20, now: dt.datetime | None = None
) -> Preview:
    """What a draft rule set would do: its top ``top`` organizations, and the biggest
    movers up and down against the active set's scores. Writes nothing lasting (the
    temporary tables vanish with the transaction's connection)."""
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    features = materialize(session, now=now)
    types = feature_types()
    draft = score_select(enabled_rules(spec.rules), features, dialect, types).subquery("draft")
    active = active_rule_set(session)
    current = (
        score_select(rules_of(session, active.id), features, dialect, types).subquery("current")
        if active is not None
        else None
    )
    org = Organization.__table__
    base = select(org.c.id, org.c.name, draft.c.total, draft.c.explanation).join(
        draft, draft.c.organization_id == org.c.id
    )
    if current is not None:
        base = base.add_columns(current.c.total.label("current")).join(
            current, current.c.organization_id == org.c.id
        )
    else:
        base = base.add_columns(literal(0.0).label("current"))
    sub = base.subquery()

    def ranked(stmt: Select[Any]) -> list[Ranked]:
        return [
            Ranked(r[0], r[1], float(r[2]), json.loads(r[3]), float(r[4]))
            for r in session.execute(stmt)
        ]

    change = sub.c.total - sub.c.current
    organizations = session.scalar(select(func.count()).select_from(sub)) or 0
    return Preview(
        top=ranked(select(sub).order_by(sub.c.total.desc(), sub.c.id).limit(top)),
        up=ranked(select(sub).where(change > 0).order_by(change.desc(), sub.c.id).limit(top)),
        down=ranked(select(sub).where(change < 0).order_by(change.asc(), sub.c.id).limit(top)),
        organizations=organizations,
    )
