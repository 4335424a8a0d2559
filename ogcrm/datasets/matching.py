"""Deduplication against the CRM: the organizations, ids and decisions already stored.

:func:`load_matcher` gives a :class:`~ogcrm.pipeline.matching.OrganizationMatcher` that
knows every organization (its name keyed by the same cleaner imports use, its agency
ids) and every decision a person made; :func:`record_decision` stores a new one so the
next import reuses it. :func:`find_contact` finds a person by cleaned e-mail or phone.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ogcrm.accounts.cleaning import clean_one, organization_keys, organization_name
from ogcrm.auth import audit
from ogcrm.auth.principal import Principal
from ogcrm.db import crypto
from ogcrm.db.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    MatchDecision,
    MatchVerdict,
    Organization,
    OrganizationIdentifier,
)
from ogcrm.errors import InvalidInput
from ogcrm.pipeline.matching import OrganizationMatcher, OrgName, pair_key


def decisions(session: Session) -> dict[tuple[str, str], str]:
    """The decision in force for every pair: the latest one."""
    latest: dict[tuple[str, str], str] = {}
    for left, right, verdict in session.execute(
        select(MatchDecision.left_key, MatchDecision.right_key, MatchDecision.verdict).order_by(
            MatchDecision.id
        )
    ):
        latest[(left, right)] = str(verdict)
    return latest


def load_matcher(session: Session) -> OrganizationMatcher:
    """A matcher that knows the CRM's organizations, their ids and past decisions."""
    ids: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for org_id, agency, ident in session.execute(
        select(
            OrganizationIdentifier.organization_id,
            OrganizationIdentifier.agency,
            OrganizationIdentifier.identifier,
        )
    ):
        ids[org_id].add((agency, ident))
    rows = session.execute(select(Organization.id, Organization.name)).all()
    keys = organization_keys([name for _, name in rows])
    known = [
        OrgName(key, name, form, frozenset(ids[org_id]), org_id)
        for (org_id, name), (key, form) in zip(rows, keys, strict=True)
        if key
    ]
    return OrganizationMatcher(known, decisions(session))


def record_decision(
    session: Session,
    principal: Principal,
    left_name: str,
    right_name: str,
    verdict: MatchVerdict,
    *,
    dataset_id: int | None = None,
    note: str = "",
) -> MatchDecision:
    """Store a person's word on two names; later imports reuse it."""
    left = organization_name(left_name).key
    right = organization_name(right_name).key
    if left == right:
        raise InvalidInput("both names have the same key; there is nothing to decide")
    a, b = pair_key(left, right)
    row = MatchDecision(
        left_key=a,
        right_key=b,
        verdict=verdict,
        decided_by_id=principal.user_id,
        dataset_id=dataset_id,
        note=note,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        "match.decide",
        entity="match_decision",
        entity_id=row.id,
        left=a,
        right=b,
        verdict=str(verdict),
    )
    return row


def find_contact(
    session: Session,
    organization_id: int,
    *,
    email: str | None = None,
    phone: str | None = None,
) -> Contact | None:
    """The organization's contact with this e-mail (cleaned, compared without case) or
    phone (cleaned to E.164), if any."""
    if email:
        address, _ = clean_one("contact_email", email)
        hit = session.scalars(
            select(Contact)
            .join(ContactEmail, ContactEmail.contact_id == Contact.id)
            .where(
                Contact.organization_id == organization_id,
                # a local part's case almost never tells two people apart; through the
                # blind index when the addresses are encrypted
                crypto.equals(
                    ContactEmail.address, ContactEmail.address_index, str(address), fold_case=True
                ),
            )
        ).first()
        if hit is not None:
            return hit
    if phone:
        number, _ = clean_one("contact_phone", phone)
        return session.scalars(
            select(Contact)
            .join(ContactPhone, ContactPhone.contact_id == Contact.id)
            .where(
                Contact.organization_id == organization_id,
                crypto.equals(ContactPhone.number, ContactPhone.number_index, str(number)),
            )
        ).first()
    return None
