"""Organizations: creation and the prioritized list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ogcrm.db.models import Organization, OrganizationIdentifier
from ogcrm.identifiers import name_key, normalize_agency_identifier
from ogcrm.services.errors import InvalidInput

#: Position of an organization in the priority order: (priority, id).
PriorityKey = tuple[float, int]


@dataclass(frozen=True)
class Page:
    rows: Sequence[Organization]
    has_next: bool

    @staticmethod
    def key(org: Organization) -> PriorityKey:
        return (org.priority, org.id)


def list_by_priority(session: Session, *, first: int, after: PriorityKey | None = None) -> Page:
    """A page of organizations, highest priority first, ties broken by id.

    Keyset pagination: the page after ``after`` is found through the
    ``(priority, id)`` index whatever the depth, and rows inserted meanwhile never make a
    reader see one row twice.
    """
    if first < 0:
        raise InvalidInput("first must not be negative", field="first")
    stmt = select(Organization).order_by(Organization.priority.desc(), Organization.id.asc())
    if after is not None:
        priority, last_id = after
        stmt = stmt.where(
            or_(
                Organization.priority < priority,
                and_(Organization.priority == priority, Organization.id > last_id),
            )
        )
    rows = session.scalars(stmt.limit(first + 1)).all()
    return Page(rows=rows[:first], has_next=len(rows) > first)


def create_organization(
    session: Session,
    *,
    name: str,
    identifiers: dict[str, str] | None = None,
    **fields: object,
) -> Organization:
    """Add an organization with its government ids (``{agency: identifier}``)."""
    display = " ".join(name.split())
    if not display:
        raise InvalidInput("name must not be empty", field="name")
    org = Organization(name=display, normalized_name=name_key(display), **fields)
    for agency, ident in (identifiers or {}).items():
        agency_key, ident_key = normalize_agency_identifier(agency, ident)
        org.identifiers.append(OrganizationIdentifier(agency=agency_key, identifier=ident_key))
    session.add(org)
    session.flush()
    return org
