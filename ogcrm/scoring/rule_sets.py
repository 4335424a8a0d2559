"""Rule sets as versions: save a draft, activate it (rescoring everyone), override an
organization's priority by hand, explain one organization's score, and rescore
organizations whose activity changed."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import (
    Action,
    OrganizationScore,
    Rule,
    RuleSet,
    RuleSetStatus,
    ScoreSnapshot,
)
from ogcrm.db.types import utcnow
from ogcrm.errors import Conflict, InvalidInput, NotFound
from ogcrm.failpoints import failpoint
from ogcrm.jobs import queue
from ogcrm.progress import Progress
from ogcrm.rules.jsonlogic import apply, contribution
from ogcrm.rules.ruleset import Fault, RuleSetInvalid, RuleSetSpec, validate
from ogcrm.scoring.features import catalog, features_select, interpreter_data
from ogcrm.scoring.rescore import (
    NoActiveRuleSet,
    Preview,
    RescoreResult,
    active_rule_set,
    explanation,
    preview,
    rescore,
    rules_of,
)

#: the job that rescores organizations (declared in :mod:`ogcrm.scoring.tasks`)
RESCORE_JOB = "rules.rescore"


def check(spec: RuleSetSpec) -> None:
    """Raise :class:`RuleSetInvalid` with every fault, or return."""
    features = {name: feature for name, (feature, _) in catalog().items()}
    faults = validate(spec, features)
    if faults:
        raise RuleSetInvalid(faults)


def faults_of(spec: RuleSetSpec) -> list[Fault]:
    """Every fault of a rule set (empty when it is valid); nothing is saved."""
    features = {name: feature for name, (feature, _) in catalog().items()}
    return validate(spec, features)


def list_rule_sets(session: Session, principal: Principal) -> list[RuleSet]:
    """Every version of every rule set the principal may read, newest first."""
    stmt = policy.readable(select(RuleSet), "rule_set", principal)
    return list(session.scalars(stmt.order_by(RuleSet.id.desc())))


def get_rule_set(session: Session, principal: Principal, rule_set_id: int) -> RuleSet:
    row: RuleSet = policy.get_readable(session, "rule_set", principal, rule_set_id)
    return row


def rules_by_set(session: Session, rule_set_ids: Sequence[int]) -> dict[int, list[Rule]]:
    """The rules of each rule set, in order (one statement for any number of sets)."""
    found: dict[int, list[Rule]] = {i: [] for i in rule_set_ids}
    for rule in session.scalars(
        select(Rule).where(Rule.rule_set_id.in_(list(rule_set_ids))).order_by(Rule.position)
    ):
        found[rule.rule_set_id].append(rule)
    return found


def preview_spec(
    session: Session, principal: Principal, spec: RuleSetSpec, *, top: int = 20
) -> Preview:
    """What a draft would rank first and who would move most; nothing is saved.

    Raises:
        RuleSetInvalid: with every fault (an unknown feature, a missing weight...).
    """
    policy.require(principal, "rule_set", Action.READ)
    if not 1 <= top <= 100:
        raise InvalidInput("top must be between 1 and 100", field="top")
    check(spec)
    return preview(session, spec, top=top)


def save_rule_set(session: Session, principal: Principal, spec: RuleSetSpec) -> RuleSet:
    """Store a validated rule set as the next draft version of its name."""
    policy.require(principal, "rule_set", Action.WRITE)
    check(spec)
    version = (
        session.scalar(select(func.max(RuleSet.version)).where(RuleSet.name == spec.name)) or 0
    ) + 1
    row = RuleSet(
        name=spec.name,
        version=version,
        description=spec.description,
        status=RuleSetStatus.DRAFT,
        created_by_id=principal.user_id,
    )
    row.rules = [
        Rule(
            position=i,
            name=r.name,
            description=r.description,
            logic=r.logic,
            weight=r.weight,
            enabled=r.enabled,
        )
        for i, r in enumerate(spec.rules)
    ]
    session.add(row)
    session.flush()
    audit.record(
        session, principal, "rule_set.create", entity="rule_set", entity_id=row.id, version=version
    )
    return row


def activate(
    session: Session,
    principal: Principal,
    rule_set_id: int,
    *,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> RescoreResult:
    """Make a rule set the active one (the previous one is archived) and rescore every
    organization with it, in the caller's one transaction."""
    row = _make_active(session, principal, rule_set_id, now=now)
    result = rescore(
        session,
        rule_set_id=row.id,
        now=now,
        cause=_activation(row.id, principal),
        progress=progress,
    )
    audit.record(
        session,
        principal,
        "rule_set.activate",
        entity="rule_set",
        entity_id=row.id,
        organizations=result.organizations,
    )
    return result


def activate_later(session: Session, principal: Principal, rule_set_id: int) -> bool:
    """Make a rule set the active one and have everyone rescored by a job after commit;
    ``False`` when this process has no job broker and the rescore was done now."""
    row = _make_active(session, principal, rule_set_id)
    cause = _activation(row.id, principal)
    queued = queue.enqueue(session, RESCORE_JOB, None, cause)
    if not queued:
        rescore(session, rule_set_id=row.id, cause=cause)
    audit.record(
        session, principal, "rule_set.activate", entity="rule_set", entity_id=row.id, queued=queued
    )
    return queued


def _make_active(
    session: Session, principal: Principal, rule_set_id: int, *, now: dt.datetime | None = None
) -> RuleSet:
    policy.require(principal, "rule_activation", Action.WRITE)
    row = get_rule_set(session, principal, rule_set_id)
    if row.status == RuleSetStatus.ACTIVE:
        raise Conflict(f"rule set {rule_set_id} is already active", state="active")
    check(RuleSetSpec(row.name, tuple(rules_of(session, row.id)), row.description))
    session.execute(
        update(RuleSet)
        .where(RuleSet.status == RuleSetStatus.ACTIVE, RuleSet.id != row.id)
        .values(status=RuleSetStatus.ARCHIVED)
    )
    session.flush()
    failpoint("rules.activate.after_archive")
    try:
        # the partial unique index allows one active set: of two activations at once
        # (PostgreSQL), the second waits for the first, then fails here
        with session.begin_nested():
            row.status = RuleSetStatus.ACTIVE
            row.activated_by_id = principal.user_id
            row.activated_at = now or utcnow()
            session.flush()
    except IntegrityError:
        raise Conflict(
            "another rule set was activated at the same moment; look again and retry",
            state="draft",
        ) from None
    return row


@dataclass(frozen=True)
class StoredScore:
    organization_id: int
    score: float
    priority: float
    rule_set_id: int | None
    scored_at: dt.datetime | None
    #: ``[{"rule": name, "contribution": c}, ...]``: the rules that added something.
    explanation: list[dict[str, Any]]


def stored_score(session: Session, organization_id: int) -> StoredScore:
    """An organization's current score as the last rescore stored it, explained."""
    row = session.get(OrganizationScore, organization_id)
    if row is None:
        raise NotFound(f"organization {organization_id} not found")
    parts: list[dict[str, Any]] = []
    if row.snapshot_id is not None and row.rule_set_id is not None:
        snapshot = session.get(ScoreSnapshot, row.snapshot_id)
        if snapshot is not None:
            parts = explanation(rules_of(session, row.rule_set_id), snapshot.contributions)
    return StoredScore(
        organization_id, row.score, row.priority, row.rule_set_id, row.scored_at, parts
    )


@dataclass(frozen=True)
class Explanation:
    organization_id: int
    features: dict[str, Any]
    contributions: list[dict[str, Any]]
    score: float


def explain(
    session: Session, organization_id: int, *, now: dt.datetime | None = None
) -> Explanation:
    """One organization's score under the active rule set, by the interpreter: its
    features and what every rule made of them."""
    active = active_rule_set(session)
    if active is None:
        raise NotFound("no rule set is active")
    dialect = session.get_bind().dialect.name
    row = (
        session.execute(
            features_select(dialect, now=now or utcnow(), organization_ids=[organization_id])
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"organization {organization_id} not found")
    types = {name: f.type for name, (f, _) in catalog().items()}
    data = interpreter_data(dict(row), types)
    parts = []
    for rule in rules_of(session, active.id):
        value = apply(rule.logic, data)
        parts.append(
            {"rule": rule.name, "value": value, "contribution": contribution(value, rule.weight)}
        )
    return Explanation(organization_id, data, parts, sum(p["contribution"] for p in parts))


def _activation(rule_set_id: int, principal: Principal) -> dict[str, Any]:
    return {"kind": "rule_set_activated", "rule_set_id": rule_set_id, "user_id": principal.user_id}


def rescore_soon(
    session: Session, organization_ids: Sequence[int], cause: dict[str, Any] | None = None
) -> None:
    """Rescore organizations whose activity changed: a job after commit when this
    process has a job broker bound (:func:`ogcrm.jobs.queue.bind`), otherwise now, in
    the caller's transaction (nothing to do without an active rule set)."""
    ids = list(organization_ids)
    if queue.enqueue(session, RESCORE_JOB, ids, cause):
        return
    with contextlib.suppress(NoActiveRuleSet):
        rescore(session, organization_ids=ids, cause=cause)
