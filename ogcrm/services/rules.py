"""Rule sets as versions: save a draft, activate it (rescoring everyone), override an
organization's priority by hand, and explain one organization's score."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dramatiq
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

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
from ogcrm.rules.features import catalog, features_select
from ogcrm.rules.jsonlogic import apply, contribution
from ogcrm.rules.ruleset import RuleSetInvalid, RuleSetSpec, validate
from ogcrm.rules.scoring import (
    NoActiveRuleSet,
    RescoreResult,
    active_rule_set,
    explanation,
    lock_scores,
    rescore,
    rules_of,
)
from ogcrm.services import audit
from ogcrm.services.errors import InvalidInput, NotFound


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


def rescore_after(
    session: Session, organization_ids: Sequence[int], broker: dramatiq.Broker | None
) -> None:
    """Rescore organizations whose activity changed: a job after commit with a broker,
    otherwise now, in the caller's transaction (nothing to do without an active rule
    set)."""
    if broker is not None:
        from ogcrm.jobs.outbox import after_commit

        after_commit(session, broker, "rules.rescore", list(organization_ids))
        return
    with contextlib.suppress(NoActiveRuleSet):
        rescore(session, organization_ids=list(organization_ids))
