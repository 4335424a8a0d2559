"""Scoring organizations with a rule set: set-based, explained, kept in history.

Priority = the sum of the rules' contributions (weight when a boolean rule is true,
weight x value for a numeric one), unless a manual override with a reason is in force
(no expiry, or one in the future). One rescoring is a handful of statements whatever the
number of organizations:

1. the features, computed by the scorer plugins, into a temporary table;
2. the scoring statement: every enabled rule compiled to SQL, its contribution, the
   total, the effective priority, and a new snapshot id where the score or its
   explanation changed, into another;
3. a ScoreSnapshot (score, priority, each rule's contribution) for those;
4. the organizations' current scores, only those that moved: rewritten whole on
   PostgreSQL when many moved (``SWAP_AT``, a tenth of all; a new narrow table swapped
   in: 1.2 s per million rows where an UPDATE takes 6 s), updated in place otherwise;
   ``scored_at`` is when a score last changed.

Rescores, overrides and new organizations serialize on a lock on ``organization_score``,
so a swap never loses a concurrent write. Nothing here writes when previewing a draft.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    MetaData,
    Select,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, CreateIndex

from ogcrm import events
from ogcrm.db.models import (
    Organization,
    OrganizationScore,
    Rule,
    RuleSet,
    RuleSetStatus,
    ScoreSnapshot,
)
from ogcrm.db.types import FloatListType, utcnow
from ogcrm.progress import Progress, Tick
from ogcrm.rules.compiler import Unsupported, compile_rule, contribution_sql
from ogcrm.rules.ruleset import RuleSetSpec, RuleSpec
from ogcrm.scoring.features import catalog, materialize


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
    ``contributions`` (the same numbers as one list, in rule order). ``types`` gives
    each feature column's type (number, string, list)."""
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
        _as_list(contributions, dialect).label("contributions"),
    )


def _as_list(values: list[Any], dialect: str) -> Any:
    """The contributions as one value: ``double precision[]`` on PostgreSQL (half the
    cost of building JSONB), JSON text on SQLite."""
    if dialect == "postgresql":
        return array(values, type_=Float) if values else text("'{}'::double precision[]")
    return func.json_array(*values) if values else literal("[]")


def explanation(
    rules: Sequence[RuleSpec], contributions: Sequence[float] | str | None
) -> list[dict[str, Any]]:
    """``[{"rule": name, "contribution": c}, ...]`` for the rules that added something,
    from contributions stored in rule order."""
    values = json.loads(contributions) if isinstance(contributions, str) else contributions or []
    return [
        {"rule": rule.name, "contribution": float(c)}
        for rule, c in zip(rules, values, strict=False)
        if c
    ]


def active_rule_set(session: Session) -> RuleSet | None:
    return session.scalars(select(RuleSet).where(RuleSet.status == RuleSetStatus.ACTIVE)).first()


def rules_of(session: Session, rule_set_id: int) -> list[RuleSpec]:
    """The enabled rules of a rule set in position order: the order of every stored
    list of contributions made with it."""
    rows = session.scalars(
        select(Rule).where(Rule.rule_set_id == rule_set_id).order_by(Rule.position)
    ).all()
    return enabled_rules(rows)


def lock_scores(session: Session) -> None:
    """Serialize writers of current scores (rescores, overrides, new organizations'
    score rows) for the rest of the transaction; readers go on (PostgreSQL; SQLite
    has one writer at a time anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE organization_score IN EXCLUSIVE MODE"))


def _scores_table() -> Table:
    """Where the scoring statement leaves its results for the statements that store them."""
    return Table(
        "ogcrm_scores",
        MetaData(),
        Column("organization_id", BigInteger, primary_key=True),
        Column("total", Float),
        Column("priority", Float),
        Column("contributions", FloatListType),
        Column("snapshot_id", BigInteger),
        Column("fresh", Boolean),
        prefixes=["TEMPORARY"],
    )


def rescore(
    session: Session,
    *,
    rule_set_id: int | None = None,
    organization_ids: Sequence[int] | None = None,
    features: Table | None = None,
    types: dict[str, str] | None = None,
    now: dt.datetime | None = None,
    cause: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> RescoreResult:
    """Score the given organizations (all by default) with a rule set (the active one
    by default) and persist scores, priorities and snapshots with their explanations.

    Organizations whose priority moved are announced on the priority channel after
    commit, with ``cause`` (what made them rescore: a rule set, a dataset, an
    interaction), when anyone can listen (:func:`ogcrm.events.has_bus`).

    ``features`` may name an already-filled table of features (benchmarks, tests);
    otherwise the scorers compute them (``types`` then defaults to theirs).

    ``progress`` is told as each of the four steps begins (features, scoring,
    snapshots, storing): each is one set-based statement or a few, whose rows cannot be
    counted as they go.
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
    lock_scores(session)
    if dialect == "postgresql":
        # scores are recomputable: a crash losing the last commit costs a rescore, so
        # the commit need not wait for the WAL flush
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    step = _stepper(session, organization_ids, progress)
    t = time.perf_counter()
    step(0, "features")
    if features is None:
        features = materialize(session, now=now, organization_ids=organization_ids)
    types = feature_types() if types is None else types
    timings["features"] = time.perf_counter() - t

    t = time.perf_counter()
    step(1, "scoring")
    scores = _scores_table()
    connection = session.connection()
    scores.drop(bind=connection, checkfirst=True)
    scores.create(bind=connection)
    scoring = score_select(rules, features, dialect, types)
    if organization_ids is not None:
        scoring = scoring.where(features.c.organization_id.in_(list(organization_ids)))
    organizations = connection.execute(
        insert(scores)
        .from_select(
            [c.name for c in scores.columns],
            _with_snapshot_ids(scoring.subquery("scored"), rule_set_id, dialect, now),
        )
        .execution_options(preserve_rowcount=True)
    ).rowcount
    if dialect == "postgresql":
        # temporary tables are never auto-analyzed; without statistics the planner
        # joins a million scores to organizations with a nested loop
        session.execute(text(f"ANALYZE {scores.name}"))
    timings["scoring"] = time.perf_counter() - t

    t = time.perf_counter()
    step(2, "snapshots")
    snapshot = insert(ScoreSnapshot.__table__).from_select(
        [
            "id",
            "organization_id",
            "rule_set_id",
            "score",
            "priority",
            "contributions",
            "computed_at",
        ],
        select(
            scores.c.snapshot_id,
            scores.c.organization_id,
            literal(rule_set_id, BigInteger),
            scores.c.total,
            scores.c.priority,
            scores.c.contributions,
            literal(now, OrganizationScore.scored_at.type),
        ).where(scores.c.fresh),
    )
    # rowcount of an INSERT is only kept when asked for (SQLAlchemy 2.0.28+)
    snapshots = connection.execute(snapshot.execution_options(preserve_rowcount=True)).rowcount
    timings["snapshots"] = time.perf_counter() - t

    if events.has_bus(session):
        _announce_changes(session, scores, cause or {"kind": "rescore"})
    t = time.perf_counter()
    step(3, "storing")
    current = OrganizationScore.__table__
    changed = and_(
        current.c.organization_id == scores.c.organization_id,
        or_(
            current.c.score.is_distinct_from(scores.c.total),
            current.c.priority.is_distinct_from(scores.c.priority),
            current.c.rule_set_id.is_distinct_from(literal(rule_set_id, BigInteger)),
            current.c.snapshot_id.is_distinct_from(scores.c.snapshot_id),
        ),
    )
    moved = session.scalar(select(func.count()).select_from(scores).where(changed)) or 0
    if (
        organization_ids is None
        and dialect == "postgresql"
        and moved > max(organizations // 10, SWAP_AT)
    ):
        _swap_in(session, scores, rule_set_id, now)
    elif moved:
        # Only the scores that moved are written: a rescore that changes nothing (the
        # nightly one, mostly) rewrites no row, where it used to rewrite every one
        # (24 s against a first rescore's 13 s per million on SQLite). So ``scored_at``
        # is when the score last changed.
        session.execute(
            update(current)
            .where(changed)
            .values(
                score=scores.c.total,
                priority=scores.c.priority,
                rule_set_id=rule_set_id,
                snapshot_id=scores.c.snapshot_id,
                scored_at=now,
            )
        )
    timings["store"] = time.perf_counter() - t
    scores.drop(bind=connection)
    step(4, "done")
    return RescoreResult(rule_set_id, organizations, snapshots, timings)


def _stepper(
    session: Session, organization_ids: Sequence[int] | None, progress: Progress | None
) -> Callable[[int, str], None]:
    """Tell ``progress`` (if any) that step ``done`` of four begins; the organizations
    are counted once, for the label, only when someone is watching."""
    if progress is None:
        return lambda done, name: None
    count = (
        len(organization_ids)
        if organization_ids is not None
        else session.scalar(select(func.count()).select_from(Organization)) or 0
    )
    detail = f"{count:,} organizations"
    return lambda done, name: progress(Tick(done, 4, "steps", step=name, detail=detail))


#: A full rescore on PostgreSQL swaps a new scores table in when more rows moved than
#: this and a tenth of all (below, an UPDATE of the moved rows is cheaper than a copy).
SWAP_AT = 10_000

#: At most this many priority events per rescore; past it, one event says how many more
#: moved (a first activation over a million accounts is news as a whole, not per row).
MAX_PRIORITY_EVENTS = 10_000


def _announce_changes(session: Session, scores: Table, cause: dict[str, Any]) -> None:
    current = OrganizationScore.__table__
    org = Organization.__table__
    moved = session.execute(
        select(scores.c.organization_id, org.c.owner_id, current.c.priority, scores.c.priority)
        .join(current, current.c.organization_id == scores.c.organization_id)
        .join(org, org.c.id == scores.c.organization_id)
        .where(current.c.priority != scores.c.priority)
        .limit(MAX_PRIORITY_EVENTS + 1)
    ).all()
    for org_id, owner_id, old, new in moved[:MAX_PRIORITY_EVENTS]:
        priority_changed(session, org_id, owner_id, old, new, cause)
    if len(moved) > MAX_PRIORITY_EVENTS:
        events.publish_after_commit(
            session, events.PRIORITY_CHANNEL, {"more": True, "cause": cause}
        )


def priority_changed(
    session: Session,
    organization_id: int,
    owner_id: int | None,
    old: float,
    new: float,
    cause: dict[str, Any],
) -> None:
    """Tell subscribers (after commit) that an account's priority moved, and why."""
    events.publish_after_commit(
        session,
        events.PRIORITY_CHANNEL,
        {
            "organization_id": organization_id,
            "owner_id": owner_id,
            "old": float(old),
            "new": float(new),
            "cause": cause,
            "at": utcnow().isoformat(),
        },
    )


def _with_snapshot_ids(
    scored: Any, rule_set_id: int, dialect: str, now: dt.datetime
) -> Select[Any]:
    """The scores with their effective priority, and a new snapshot id (``fresh``)
    where the current score came from another rule set, differs, or is explained
    differently; otherwise the current snapshot's id."""
    current = OrganizationScore.__table__
    previous = ScoreSnapshot.__table__.alias("previous")
    org = Organization.__table__
    unchanged = and_(
        previous.c.id.is_not(None),
        previous.c.contributions == scored.c.contributions
        if dialect == "postgresql"
        else previous.c.contributions.op("IS")(scored.c.contributions),
    )
    fresh = case((unchanged, literal(False)), else_=literal(True))
    if dialect == "postgresql":
        new_id = func.nextval(text("'score_snapshot_id_seq'"))
    else:
        # one writer at a time: ids follow the largest, numbered by a running count
        fresh_count = func.sum(case((unchanged, 0), else_=1)).over(
            order_by=scored.c.organization_id
        )
        new_id = (
            select(func.coalesce(func.max(ScoreSnapshot.id), 0)).scalar_subquery() + fresh_count
        )
    # overrides are few: joined as a small set, not a million organization rows
    pinned = (
        select(org.c.id, org.c.override_priority)
        .where(
            org.c.override_priority.is_not(None),
            or_(org.c.override_expires_at.is_(None), org.c.override_expires_at > now),
        )
        .subquery("pinned")
    )
    return (
        select(
            scored.c.organization_id,
            scored.c.total,
            func.coalesce(pinned.c.override_priority, scored.c.total),
            scored.c.contributions,
            case((unchanged, current.c.snapshot_id), else_=new_id),
            fresh,
        )
        .select_from(scored)
        .join(current, current.c.organization_id == scored.c.organization_id)
        .outerjoin(pinned, pinned.c.id == scored.c.organization_id)
        .outerjoin(
            previous,
            and_(
                previous.c.id == current.c.snapshot_id,
                current.c.rule_set_id == rule_set_id,
                current.c.score == scored.c.total,
            ),
        )
    )


def _swap_in(session: Session, scores: Table, rule_set_id: int, now: dt.datetime) -> None:
    """Replace ``organization_score`` whole with a new table holding the new scores
    (PostgreSQL, everyone rescored, under :func:`lock_scores`), with the constraints
    and index of the model, so Alembic sees no difference."""
    current = OrganizationScore.__table__
    session.execute(
        text("CREATE TABLE organization_score_next (LIKE organization_score INCLUDING DEFAULTS)")
    )
    session.execute(
        text(
            "INSERT INTO organization_score_next "
            "(organization_id, score, priority, rule_set_id, snapshot_id, scored_at) "
            "SELECT c.organization_id, coalesce(s.total, c.score), coalesce(s.priority, c.priority), "
            "CASE WHEN s.organization_id IS NULL THEN c.rule_set_id ELSE :rule_set_id END, "
            "coalesce(s.snapshot_id, c.snapshot_id), "
            # as an update in place would: the time of the last change
            "CASE WHEN s.organization_id IS NULL OR (c.score = s.total "
            "AND c.priority = s.priority AND c.rule_set_id = :rule_set_id "
            "AND c.snapshot_id = s.snapshot_id) THEN c.scored_at ELSE :now END "
            "FROM organization_score AS c LEFT JOIN ogcrm_scores AS s "
            "ON s.organization_id = c.organization_id"
        ),
        {"rule_set_id": rule_set_id, "now": now},
    )
    session.execute(text("DROP TABLE organization_score"))
    session.execute(text("ALTER TABLE organization_score_next RENAME TO organization_score"))
    session.execute(AddConstraint(current.primary_key))
    for constraint in current.foreign_key_constraints:
        session.execute(AddConstraint(constraint))
    for index in current.indexes:
        session.execute(CreateIndex(index))
    session.execute(text("ANALYZE organization_score"))


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
    draft_rules = enabled_rules(spec.rules)
    draft = score_select(draft_rules, features, dialect, types).subquery("draft")
    active = active_rule_set(session)
    current = (
        score_select(rules_of(session, active.id), features, dialect, types).subquery("current")
        if active is not None
        else None
    )
    org = Organization.__table__
    base = select(org.c.id, org.c.name, draft.c.total, draft.c.contributions).join(
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
            Ranked(r[0], r[1], float(r[2]), explanation(draft_rules, r[3]), float(r[4]))
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
