"""Organizations: the prioritized list, search, creation, claiming and reassignment.

Every function takes the acting :class:`Principal`; reads are filtered by
:mod:`ogcrm.auth.policy` in SQL and writes are checked and audited there.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ogcrm.accounts.cleaning import organization_name
from ogcrm.accounts.events import account_event
from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Action, Organization, OrganizationIdentifier, OrganizationScore, User
from ogcrm.errors import InvalidInput, NotFound, PermissionDenied
from ogcrm.identifiers import IdentifierError, normalize_agency_identifier


def get_organization(session: Session, principal: Principal, org_id: int) -> Organization:
    return policy.get_readable(session, "organization", principal, org_id)  # type: ignore[no-any-return]


def organizations_by_ids(
    session: Session, principal: Principal, ids: Sequence[int]
) -> dict[int, Organization]:
    """The readable ones among ``ids`` (for DataLoaders), keyed by id."""
    stmt = policy.readable(
        select(Organization).where(Organization.id.in_(ids)), "organization", principal
    )
    return {org.id: org for org in session.scalars(stmt)}


def create_organization(
    session: Session,
    principal: Principal,
    *,
    name: str,
    identifiers: dict[str, str] | None = None,
    priority: float | None = None,
    **fields: object,
) -> Organization:
    """Add an organization with its government ids (``{agency: identifier}``).

    A sales rep's new organization is theirs; others create unowned prospects unless
    ``owner_id`` is given. ``priority`` is a starting score (say, carried over from
    another CRM) until the rules score it.
    """
    cleaned = organization_name(name)
    display, key = cleaned.display, cleaned.key
    if "owner_id" not in fields and principal.scope("organization", Action.WRITE).value == "own":
        fields["owner_id"] = principal.user_id
    org = Organization(name=display, normalized_name=key, **fields)
    policy.authorize_write(session, principal, "organization", org)
    for agency, ident in (identifiers or {}).items():
        try:
            agency_key, ident_key = normalize_agency_identifier(agency, ident)
        except IdentifierError as exc:
            raise InvalidInput(str(exc), field="identifiers") from None
        org.identifiers.append(OrganizationIdentifier(agency=agency_key, identifier=ident_key))
    session.add(org)
    session.flush()
    if priority is not None:
        session.execute(
            update(OrganizationScore)
            .where(OrganizationScore.organization_id == org.id)
            .values(score=priority, priority=priority)
        )
    # the score row comes from a trigger: load it while the session is open
    session.refresh(org, ["ranking"])
    audit.record(
        session,
        principal,
        "organization.create",
        entity="organization",
        entity_id=org.id,
        name=display,
    )
    return org


def claim_organization(session: Session, principal: Principal, org_id: int) -> Organization:
    """Make an unowned prospect the principal's own account."""
    org = get_organization(session, principal, org_id)
    if org.owner_id == principal.user_id:
        return org
    if org.owner_id is not None:
        raise PermissionDenied(
            "this organization already has an owner; ask a manager to reassign it"
        )
    policy.require(principal, "organization", Action.WRITE)
    org.owner_id = principal.user_id
    session.flush()
    audit.record(session, principal, "organization.claim", entity="organization", entity_id=org.id)
    account_event(
        session,
        org.id,
        "reassigned",
        "claimed as a new account",
        user_id=principal.user_id,
        owner_id=org.owner_id,
        data={"before": None, "after": org.owner_id},
    )
    return org


def assign_organization(
    session: Session, principal: Principal, org_id: int, owner_id: int | None
) -> Organization:
    """Give an organization to another user (or none). Needs write access to it."""
    org = get_organization(session, principal, org_id)
    policy.authorize_write(session, principal, "organization", org)
    if owner_id is not None and session.get(User, owner_id) is None:
        raise NotFound(f"user {owner_id} not found")
    previous = org.owner_id
    org.owner_id = owner_id
    session.flush()
    policy.authorize_write(session, principal, "organization", org)  # may they give it away?
    audit.record(
        session,
        principal,
        "organization.assign",
        entity="organization",
        entity_id=org.id,
        before=previous,
        after=owner_id,
    )
    if owner_id is not None and owner_id != previous:  # news for the new owner
        account_event(
            session,
            org.id,
            "reassigned",
            "assigned to you",
            user_id=principal.user_id,
            owner_id=owner_id,
            data={"before": previous, "after": owner_id},
        )
    return org
