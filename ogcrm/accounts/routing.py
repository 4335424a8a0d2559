"""Routing: who gets a service request, and who owns a new prospect, by rules an admin or
manager writes.

A rule is JSON-logic over the request and its organization (the variables below),
evaluated by the rules engine's interpreter, in order: the first enabled rule whose logic
holds assigns its user or team and is recorded on the request (``routedByRule``). No
match leaves the request in the default queue: unassigned, for a manager to hand out.
Rules are checked like scoring rules (unknown variables and operators are refused with a
JSON Pointer to the fault) and can be previewed against the open requests before they
are saved; saving replaces the whole ordered list at once.

A rule that ``applies_to`` organizations routes the unowned organizations a merged
dataset creates (DESIGN §6): the same variables, read from the organization (its state,
and the county and basin where it holds the most wells and permits), the first rule that
holds making its user the owner, recorded on the account's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ogcrm.accounts.events import account_event
from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import (
    Action,
    Organization,
    OrganizationScore,
    Permit,
    RoutingRule,
    ServiceRequest,
    ServiceRequestPriority,
    ServiceRequestStatus,
    Team,
    User,
    Well,
)
from ogcrm.errors import Conflict
from ogcrm.pipeline.contracts import Feature
from ogcrm.rules.jsonlogic import apply, truthy
from ogcrm.rules.ruleset import Fault, RuleSetInvalid, logic_faults

_RANK = {
    ServiceRequestPriority.LOW: 1,
    ServiceRequestPriority.NORMAL: 2,
    ServiceRequestPriority.HIGH: 3,
    ServiceRequestPriority.URGENT: 4,
}

#: What a routing rule may refer to (``{"var": "county"}``).
VARIABLES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("kind", "text", "The request's kind, e.g. well_service."),
        Feature("priority", "text", "low, normal, high or urgent."),
        Feature("priority_rank", "number", "1 (low) to 4 (urgent): for bands, >= 3."),
        Feature("county", "text", "Where the work is: county name in capitals (REEVES)."),
        Feature("state", "text", "Where the work is: postal code (TX)."),
        Feature("basin", "text", "The basin of that county (PERMIAN, EAGLE FORD...), or null."),
        Feature("organization_state", "text", "The organization's own state."),
        Feature("organization_score", "number", "The organization's score."),
        Feature("organization_priority", "number", "The organization's priority."),
    )
}

#: Major producing basins by (state, county): what ``basin`` reads. Counties outside
#: them have none; a rule can always match on county and state instead.
BASINS: dict[str, dict[str, str]] = {
    "PERMIAN": {
        "TX": "ANDREWS CRANE CULBERSON ECTOR GLASSCOCK HOWARD LOVING MARTIN MIDLAND PECOS "
        "REAGAN REEVES UPTON WARD WINKLER",
        "NM": "EDDY LEA",
    },
    "EAGLE FORD": {"TX": "ATASCOSA DEWITT DIMMIT GONZALES KARNES LA_SALLE MCMULLEN WEBB"},
    "BAKKEN": {"ND": "DUNN MCKENZIE MOUNTRAIL WILLIAMS"},
    "DJ": {"CO": "WELD ADAMS"},
    "ANADARKO": {"OK": "BLAINE CANADIAN GRADY KINGFISHER"},
    "HAYNESVILLE": {"LA": "CADDO DESOTO", "TX": "PANOLA HARRISON"},
    "APPALACHIAN": {"PA": "BRADFORD GREENE SUSQUEHANNA WASHINGTON"},
}
_BASIN_OF = {
    (state, county.replace("_", " ")): basin
    for basin, states in BASINS.items()
    for state, counties in states.items()
    for county in counties.split()
}


def basin_of(state: str | None, county: str | None) -> str | None:
    if not state or not county:
        return None
    return _BASIN_OF.get((state.upper(), county.upper().removesuffix(" COUNTY").strip()))


SERVICE_REQUEST, ORGANIZATION = "service_request", "organization"


@dataclass(frozen=True)
class RuleInput:
    name: str
    logic: Any
    assign_user_id: int | None = None
    assign_team_id: int | None = None
    enabled: bool = True
    applies_to: str = SERVICE_REQUEST


@dataclass(frozen=True)
class Routed:
    """Where one open request would go under a list of rules."""

    request_id: int
    subject: str
    rule: str | None
    user_id: int | None
    team_id: int | None


def validate_rules(session: Session, rules: Sequence[RuleInput]) -> list[Fault]:
    """Every fault of the list, each with a JSON Pointer into it (empty: can be saved)."""
    faults: list[Fault] = []
    names: set[str] = set()
    for i, rule in enumerate(rules):
        name = rule.name.strip()
        if not name or len(name) > 200:
            faults.append(
                Fault(rule.name, f"/rules/{i}/name", "a rule has a name of 1 to 200 characters")
            )
        elif name in names:
            faults.append(Fault(name, f"/rules/{i}/name", "two rules have this name"))
        names.add(name)
        faults += [
            Fault(name, path, message)
            for path, message in logic_faults(rule.logic, f"/rules/{i}/logic", VARIABLES)
        ]
        if rule.applies_to not in (SERVICE_REQUEST, ORGANIZATION):
            faults.append(
                Fault(
                    name, f"/rules/{i}/appliesTo", "a rule routes service requests or organizations"
                )
            )
        elif rule.applies_to == ORGANIZATION and rule.assign_user_id is None:
            faults.append(
                Fault(name, f"/rules/{i}", "an organization is owned by a user, not a team")
            )
        if (rule.assign_user_id is None) == (rule.assign_team_id is None):
            faults.append(Fault(name, f"/rules/{i}", "a rule assigns either a user or a team"))
        elif rule.assign_user_id is not None and not session.scalar(
            select(User.is_active).where(User.id == rule.assign_user_id)
        ):
            faults.append(Fault(name, f"/rules/{i}/assignUserId", "no such active user"))
        elif rule.assign_team_id is not None and session.get(Team, rule.assign_team_id) is None:
            faults.append(Fault(name, f"/rules/{i}/assignTeamId", "no such team"))
    return faults


def stored_rules(session: Session) -> list[RuleInput]:
    rows = session.scalars(select(RoutingRule).order_by(RoutingRule.position))
    return [
        RuleInput(r.name, r.logic, r.assign_user_id, r.assign_team_id, r.enabled, r.applies_to)
        for r in rows
    ]


def save_rules(
    session: Session, principal: Principal, rules: Sequence[RuleInput]
) -> list[RuleInput]:
    """Replace the routing rules with ``rules`` (in this order), if they are all valid;
    otherwise :class:`RuleSetInvalid` with every fault."""
    policy.require(principal, "routing_rule", Action.WRITE)
    faults = validate_rules(session, rules)
    if faults:
        raise RuleSetInvalid(faults)
    try:
        with session.begin_nested():
            session.execute(delete(RoutingRule))
            for i, rule in enumerate(rules):
                session.add(
                    RoutingRule(
                        position=i,
                        name=rule.name.strip(),
                        logic=rule.logic,
                        assign_user_id=rule.assign_user_id,
                        assign_team_id=rule.assign_team_id,
                        enabled=rule.enabled,
                        applies_to=rule.applies_to,
                        created_by_id=principal.user_id,
                    )
                )
            session.flush()
    except IntegrityError:
        raise Conflict(
            "the routing rules were changed meanwhile: load them and try again"
        ) from None
    audit.record(session, principal, "routing.save", entity="routing_rule", rules=len(rules))
    return stored_rules(session)


def _data(request: ServiceRequest, org: Any) -> dict[str, Any]:
    county = request.county.upper() if request.county else None
    return {
        "kind": request.kind,
        "priority": request.priority.value,
        "priority_rank": _RANK[request.priority],
        "county": county,
        "state": request.state,
        "basin": basin_of(request.state, county),
        "organization_state": org.state if org is not None else None,
        "organization_score": org.score if org is not None else None,
        "organization_priority": org.priority if org is not None else None,
    }


def _organizations(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    stmt = (
        select(
            Organization.id, Organization.state, OrganizationScore.score, OrganizationScore.priority
        )
        .join(OrganizationScore, OrganizationScore.organization_id == Organization.id, isouter=True)
        .where(Organization.id.in_(list(ids)))
    )
    return {row.id: row for row in session.execute(stmt)}


def first_match(
    rules: Sequence[RuleInput], data: dict[str, Any], target: str = SERVICE_REQUEST
) -> RuleInput | None:
    for rule in rules:
        if rule.enabled and rule.applies_to == target and truthy(apply(rule.logic, data)):
            return rule
    return None


def route(session: Session, request: ServiceRequest) -> RuleInput | None:
    """Assign ``request`` by the stored rules (first match wins); ``None``: no rule
    matched and it stays in the default queue, unassigned."""
    org = _organizations(session, [request.organization_id]).get(request.organization_id)
    rule = first_match(stored_rules(session), _data(request, org))
    if rule is not None:
        request.assignee_id = rule.assign_user_id
        request.team_id = rule.assign_team_id
        request.routed_by_rule = rule.name.strip()
    return rule


def preview(
    session: Session, principal: Principal, rules: Sequence[RuleInput], *, limit: int = 500
) -> list[Routed]:
    """Where each open request the principal may read would go under ``rules`` (nothing
    is saved or reassigned); invalid rules are :class:`RuleSetInvalid`."""
    faults = validate_rules(session, rules)
    if faults:
        raise RuleSetInvalid(faults)
    requests = list(
        session.scalars(
            policy.readable(
                select(ServiceRequest)
                .where(
                    ServiceRequest.status.in_(
                        [ServiceRequestStatus.OPEN, ServiceRequestStatus.IN_PROGRESS]
                    )
                )
                .order_by(ServiceRequest.id)
                .limit(limit),
                "service_request",
                principal,
            )
        )
    )
    orgs = _organizations(session, sorted({r.organization_id for r in requests}))
    out = []
    for request in requests:
        rule = first_match(rules, _data(request, orgs.get(request.organization_id)))
        out.append(
            Routed(
                request.id,
                request.subject,
                rule.name.strip() if rule else None,
                rule.assign_user_id if rule else None,
                rule.assign_team_id if rule else None,
            )
        )
    return out


def _where_they_work(session: Session, org_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(state, county) where each organization holds the most wells and permits; the
    county is "" for wells whose file gave none (the state alone still routes them)."""
    counted: dict[int, dict[tuple[str, str], int]] = {}
    for model in (Well, Permit):
        stmt = (
            select(model.operator_id, model.state, func.upper(model.county), func.count())
            .where(model.operator_id.in_(list(org_ids)), model.state.is_not(None))
            .group_by(model.operator_id, model.state, func.upper(model.county))
        )
        for org_id, state, county, n in session.execute(stmt):
            place = (state or "", (county or "").removesuffix(" COUNTY").strip())
            counts = counted.setdefault(org_id, {})
            counts[place] = counts.get(place, 0) + int(n)
    return {org: max(places, key=lambda p: (places[p], p)) for org, places in counted.items()}


def route_new_organizations(session: Session, dataset_id: int) -> int:
    """Give the unowned organizations ``dataset_id`` created to the user of the first
    organization rule that holds for each; how many were routed. One conditional UPDATE
    per routed account (never one a person claimed meanwhile)."""
    rules = [r for r in stored_rules(session) if r.applies_to == ORGANIZATION and r.enabled]
    if not rules:
        return 0
    orgs = list(
        session.execute(
            select(
                Organization.id,
                Organization.state,
                OrganizationScore.score,
                OrganizationScore.priority,
            )
            .outerjoin(OrganizationScore, OrganizationScore.organization_id == Organization.id)
            .where(Organization.dataset_id == dataset_id, Organization.owner_id.is_(None))
        )
    )
    places = _where_they_work(session, [o.id for o in orgs])
    routed = 0
    for org in orgs:
        state, county = places.get(org.id, (org.state or "", ""))
        data = {
            "kind": None, "priority": None, "priority_rank": None,
            "county": county or None, "state": state or org.state,
            "basin": basin_of(state or org.state, county),
            "organization_state": org.state, "organization_score": org.score,
            "organization_priority": org.priority,
        }  # fmt: skip
        rule = first_match(rules, data, ORGANIZATION)
        if rule is None:
            continue
        done = session.execute(
            update(Organization)
            .where(Organization.id == org.id, Organization.owner_id.is_(None))
            .values(owner_id=rule.assign_user_id)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if done:
            routed += 1
            account_event(
                session, org.id, "reassigned", f"assigned by routing rule {rule.name!r}",
                dataset_id=dataset_id, owner_id=rule.assign_user_id,
                data={"before": None, "after": rule.assign_user_id, "rule": rule.name},
            )  # fmt: skip
            audit.record(
                session, None, "organization.routed", entity="organization", entity_id=org.id,
                rule=rule.name, owner_id=rule.assign_user_id, dataset_id=dataset_id,
            )  # fmt: skip
    return routed
