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
from sqlalchemy.orm import Session

from ogcrm.auth import audit
from ogcrm.auth.principal import Principal
from ogcrm.db.models import (
    Organization,
    OrganizationScore,
    Rule,
    RuleSet,
    RuleSetStatus,
    ScoreSnapshot,
)
from ogcrm.db.types import utcnow
from ogcrm.errors import InvalidInput, NotFound
from ogcrm.jobs import queue
from ogcrm.rules.jsonlogic import apply, contribution
from ogcrm.rules.ruleset import RuleSetInvalid, RuleSetSpec, validate
from ogcrm.scoring.features import catalog, features_select, interpreter_data
from ogcrm.scoring.rescore import (
    NoActiveRuleSet,
    RescoreResult,
    active_rule_set,
    explanation,
    lock_scores,
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


def save_rule_set(session: Session, principal: Principal, spec: RuleSetSpec) -> RuleSet:
    """Store a validated rule set as the next draft version of its name."""
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
    session: Session, principal: Principal, rule_set_id: int, *, now: dt.datetime | None = None
) -> RescoreResult:
    """Make a rule set the active one (the previous one is archived) and rescore every
    organization with it, in the caller's one transaction."""
    row = session.get(RuleSet, rule_set_id)
    if row is None:
        raise NotFound(f"rule set {rule_set_id} not found")
    check(RuleSetSpec(row.name, tuple(rules_of(session, row.id)), row.description))
    session.execute(
        update(RuleSet)
        .where(RuleSet.status == RuleSetStatus.ACTIVE, RuleSet.id != row.id)
        .values(status=RuleSetStatus.ARCHIVED)
    )
    session.flush()
    row.status = RuleSetStatus.ACTIVE
    row.activated_by_id = principal.user_id
    row.activated_at = now or utcnow()
    session.flush()
    result = rescore(session, rule_set_id=row.id, now=now)
    audit.record(
        session,
        principal,
        "rule_set.activate",
        entity="rule_set",
        entity_id=row.id,
        organizations=result.organizations,
    )
    return result


def set_override(
    session: Session,
    principal: Principal,
    organization_id: int,
    *,
    priority: float | None,
    reason: str = "",
    expires_at: dt.datetime | None = None,
) -> Organization:
    """Pin an organization's priority by hand (``priority=None`` removes the pin)."""
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound(f"organization {organization_id} not found")
    if priority is not None and not reason.strip():
        raise InvalidInput("an override needs a reason", field="reason")
    org.override_priority = priority
    org.override_reason = reason.strip() if priority is not None else None
    org.override_expires_at = expires_at if priority is not None else None
    org.override_by_id = principal.user_id if priority is not None else None
    in_force = priority is not None and (expires_at is None or expires_at > utcnow())
    session.flush()
    lock_scores(session)
    session.execute(
        update(OrganizationScore)
        .where(OrganizationScore.organization_id == org.id)
        .values(priority=priority if in_force else OrganizationScore.score)
    )
    session.refresh(org.ranking)
    audit.record(
        session,
        principal,
        "organization.override",
        entity="organization",
        entity_id=org.id,
        priority=priority,
        reason=reason,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return org


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


def rescore_soon(session: Session, organization_ids: Sequence[int]) -> None:
    """Rescore organizations whose activity changed: a job after commit when this
    process has a job broker bound (:func:`ogcrm.jobs.queue.bind`), otherwise now, in
    the caller's transaction (nothing to do without an active rule set)."""
    ids = list(organization_ids)
    if queue.enqueue(session, RESCORE_JOB, ids):
        return
    with contextlib.suppress(NoActiveRuleSet):
        rescore(session, organization_ids=ids)
