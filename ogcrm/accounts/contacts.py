"""Contacts: people at organizations. Reading their details (e-mails, phones) is audited."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, String, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from ogcrm.accounts.cleaning import Correction, check_length, clean_field_values
from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db import crypto
from ogcrm.db.models import ChangeRecord, Contact, ContactEmail, ContactPhone
from ogcrm.db.statements import StatementCache
from ogcrm.db.types import in_param, in_values
from ogcrm.errors import InvalidInput


@dataclass(frozen=True)
class ContactPage:
    rows: Sequence[Contact]
    has_next: bool


@dataclass(frozen=True)
class ContactDetails:
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)


#: The longest search a person types (a longer one is no name: SQLite refuses a LIKE
#: pattern past about 50 KB, PostgreSQL would scan for it).
MAX_SEARCH = 200


def list_contacts(
    session: Session,
    principal: Principal,
    *,
    first: int,
    after_id: int | None = None,
    search: str | None = None,
    organization_id: int | None = None,
    ids: Sequence[int] | None = None,
) -> ContactPage:
    """Readable contacts by id; ``search`` matches name or e-mail (case-insensitive)."""
    stmt = select(Contact).order_by(Contact.id)
    if ids is not None:
        stmt = stmt.where(Contact.id.in_(ids))
    if after_id is not None:
        stmt = stmt.where(Contact.id > after_id)
    if organization_id is not None:
        stmt = stmt.where(Contact.organization_id == organization_id)
    if search and search.strip():
        needle = search.strip().lower()
        if len(needle) > MAX_SEARCH:
            raise InvalidInput(f"search is longer than {MAX_SEARCH} characters", field="search")
        # % and _ are what the person typed, not wildcards
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(
            or_(
                Contact.full_name.ilike(f"%{escaped}%", escape="\\"),
                Contact.id.in_(select(ContactEmail.contact_id).where(_email_search(needle))),
            )
        )
    rows = session.scalars(policy.readable(stmt, "contact", principal).limit(first + 1)).all()
    return ContactPage(rows=rows[:first], has_next=len(rows) > first)


def _email_search(needle: str) -> ColumnElement[bool]:
    """Addresses containing ``needle``; once they are encrypted at rest, only the whole
    address can be looked for (through its blind index)."""
    if crypto.keyring() is not None:
        return crypto.equals(
            ContactEmail.address, ContactEmail.address_index, needle, fold_case=True
        )
    address = type_coerce(ContactEmail.address, String())
    return func.lower(address).contains(needle, autoescape=True)


def get_contact(session: Session, principal: Principal, contact_id: int) -> Contact:
    return policy.get_readable(session, "contact", principal, contact_id)  # type: ignore[no-any-return]


class ContactRow(NamedTuple):
    """A contact as a list shows it. A named tuple, not the database row: a page reads
    150 of them, and a database row's attribute lookup costs ten times a tuple's."""

    id: int
    organization_id: int
    full_name: str
    title: str | None


def contacts_by_organization(
    session: Session, principal: Principal, org_ids: Sequence[int]
) -> dict[int, list[ContactRow]]:
    """Readable contacts of each organization (for the nested field's DataLoader), not
    ORM objects (a list page reads 150 of them; building entities cost ~5 ms of it)."""
    stmt = policy.readable(
        select(Contact.id, Contact.organization_id, Contact.full_name, Contact.title)
        .where(in_values(session, Contact.organization_id, org_ids))
        .order_by(Contact.id),
        "contact",
        principal,
    )
    grouped: dict[int, list[ContactRow]] = defaultdict(list)
    for row in session.connection().execute(stmt).all():
        contact = ContactRow._make(row)
        grouped[contact.organization_id].append(contact)
    return grouped


#: The list's contacts statement per identity and first contact point: a page reads it on
#: every request (see :mod:`ogcrm.db.statements`).
_WITH_POINTS = StatementCache(256)


def contacts_with_points(
    session: Session, principal: Principal, org_ids: Sequence[int], kinds: Sequence[str]
) -> dict[int, list[tuple[ContactRow, dict[str, list[str]]]]]:
    """Readable contacts of each organization with their e-mails and/or phones
    (``kinds``): the first kind joined into the contacts' own statement, so a list page
    asking for e-mails reads them in one round trip, as a hand-written query would.
    Not audited: the caller records the read (once per request)."""
    wanted = [k for k in _KINDS if k.field in kinds]
    first = wanted[0]

    def build() -> Any:
        value = getattr(first.model, first.attr)
        return policy.readable(
            select(Contact.id, Contact.organization_id, Contact.full_name, Contact.title, value)
            .outerjoin(first.model, first.model.contact_id == Contact.id)
            .where(in_param(session, Contact.organization_id, "org_ids"))
            .order_by(Contact.id, first.model.is_primary.desc(), first.model.id),
            "contact",
            principal,
        )

    key = (session.get_bind().dialect.name, principal.identity, first.field)
    stmt = _WITH_POINTS.get(key, build)
    grouped: dict[int, list[tuple[ContactRow, dict[str, list[str]]]]] = defaultdict(list)
    by_id: dict[int, dict[str, list[str]]] = {}
    # all rows at once: iterating a result fetches them one by one from the driver
    found = session.connection().execute(stmt, {"org_ids": list(org_ids)}).all()
    for cid, org_id, full_name, title, point in found:
        points = by_id.get(cid)
        if points is None:
            points = by_id[cid] = {k.field: [] for k in wanted}
            grouped[org_id].append((ContactRow(cid, org_id, full_name, title), points))
        if point is not None:
            points[first.field].append(point)
    if len(wanted) > 1 and by_id:
        rest = contact_details(
            session, principal, list(by_id), kinds=[k.field for k in wanted[1:]], audited=False
        )
        for cid, details in rest.items():
            for k in wanted[1:]:
                by_id[cid][k.field] = getattr(details, k.field)
    return grouped


def contact_details(
    session: Session,
    principal: Principal,
    contact_ids: Sequence[int],
    *,
    kinds: Sequence[str] = ("emails", "phones"),
    audited: bool = True,
) -> dict[int, ContactDetails]:
    """E-mails and/or phones (``kinds``) of the readable contacts among ``contact_ids``,
    one scoped statement per kind, recorded as one ``contact.read`` audit event naming
    them. ``audited=False`` is for a caller that records the event itself, once for
    many calls (an API request)."""
    details: dict[int, ContactDetails] = {}
    for kind in _KINDS:
        if kind.field not in kinds:
            continue
        model = kind.model
        stmt = (
            select(Contact.id, getattr(model, kind.attr))
            .outerjoin(model, model.contact_id == Contact.id)
            .where(in_values(session, Contact.id, contact_ids))
            .order_by(Contact.id, model.is_primary.desc(), model.id)
        )
        for cid, value in session.execute(policy.readable(stmt, "contact", principal)):
            found = details.setdefault(cid, ContactDetails())
            if value is not None:
                getattr(found, kind.field).append(value)
    if audited:
        audit.record_reads(session, principal, "contact", details)
    return details


@dataclass(frozen=True)
class _PointKind:
    """One kind of contact point: e-mails or phones, stored one row each."""

    field: str  # the contact's list: "emails"
    cleaner_field: str  # the canonical field its cleaner knows: "contact_email"
    model: type[ContactEmail] | type[ContactPhone]
    attr: str  # the row's value column: "address"


_EMAILS = _PointKind("emails", "contact_email", ContactEmail, "address")
_PHONES = _PointKind("phones", "contact_phone", ContactPhone, "number")
_KINDS = (_EMAILS, _PHONES)


def _replace_points(
    session: Session,
    principal: Principal,
    contact_id: int,
    kind: _PointKind,
    values: Sequence[str],
    corrections: list[Correction],
) -> None:
    """Clean ``values`` and make them the contact's e-mails or phones in place of the
    stored ones, first one primary; a person's change is recorded."""
    cleaned = _clean_list(kind.cleaner_field, kind.field, values, corrections)
    model = kind.model
    before: list[str] = []
    for row in session.scalars(
        select(model)
        .where(model.contact_id == contact_id)
        .order_by(model.is_primary.desc(), model.id)
    ):
        before.append(getattr(row, kind.attr))
        session.delete(row)
    if principal.user_id is not None:
        _record_change(session, principal, contact_id, kind.field, before, cleaned)
    session.flush()
    session.add_all(
        model(contact_id=contact_id, is_primary=i == 0, **{kind.attr: value})
        for i, value in enumerate(cleaned)
    )


def _clean_list(
    field: str, label: str, values: Sequence[str], corrections: list[Correction]
) -> list[str]:
    """The import cleaners over typed values; duplicates after cleaning are dropped."""
    for i, value in enumerate(values):
        if not value.strip():
            raise InvalidInput(f"{label}[{i}] is empty", field=label)
    cleaned, fixed = clean_field_values(field, list(values), label=label)
    corrections.extend(fixed)
    out: list[str] = []
    for value in cleaned:
        if value not in out:
            out.append(value)
    return out


def _record_change(
    session: Session,
    principal: Principal,
    contact_id: int,
    field: str,
    before: list[str] | None,
    after: list[str],
) -> None:
    if before == after:
        return
    session.add(
        ChangeRecord(
            user_id=principal.user_id,
            entity="contact",
            entity_id=contact_id,
            field=field,
            # e-mails and phones are what encryption at rest protects: history keeps no
            # clear copy of them (append-only, it could never be encrypted later)
            before=None
            if before is None
            else crypto.protect(before, f"change_record.contact.{field}"),
            after=crypto.protect(after, f"change_record.contact.{field}"),
        )
    )


def create_contact(
    session: Session,
    principal: Principal,
    *,
    organization_id: int,
    full_name: str,
    title: str | None = None,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
) -> Contact:
    """Add a person to an organization the principal may write."""
    name = " ".join(full_name.split())
    if not name:
        raise InvalidInput("full name must not be empty", field="fullName")
    check_length(Contact.full_name, "fullName", name)
    check_length(Contact.title, "title", title)
    policy.get_readable(session, "organization", principal, organization_id)
    contact = Contact(organization_id=organization_id, full_name=name, title=title)
    policy.authorize_write(session, principal, "contact", contact)
    corrections: list[Correction] = []
    cleaned = {
        kind: _clean_list(kind.cleaner_field, kind.field, values, corrections)
        for kind, values in ((_EMAILS, emails), (_PHONES, phones))
    }
    for kind, values in cleaned.items():
        getattr(contact, kind.field).extend(
            kind.model(is_primary=i == 0, **{kind.attr: value}) for i, value in enumerate(values)
        )
    session.add(contact)
    session.flush()
    if principal.user_id is not None:
        for kind, values in cleaned.items():
            _record_change(session, principal, contact.id, kind.field, None, values)
    audit.record(
        session,
        principal,
        "contact.create",
        entity="contact",
        entity_id=contact.id,
        corrections=[c.as_dict() for c in corrections],
    )
    return contact


_UNSET = object()


def update_contact(
    session: Session,
    principal: Principal,
    contact_id: int,
    *,
    full_name: str | None = None,
    title: str | object | None = _UNSET,
    emails: Sequence[str] | None = None,
    phones: Sequence[str] | None = None,
) -> Contact:
    """Change the given fields of a contact; lists replace the stored ones."""
    contact = get_contact(session, principal, contact_id)
    policy.authorize_write(session, principal, "contact", contact)
    changed: list[str] = []
    corrections: list[Correction] = []
    if full_name is not None:
        name = " ".join(full_name.split())
        if not name:
            raise InvalidInput("full name must not be empty", field="fullName")
        check_length(Contact.full_name, "fullName", name)
        contact.full_name = name
        changed.append("full_name")
    if title is not _UNSET:
        check_length(Contact.title, "title", title if isinstance(title, str) else None)
        contact.title = title  # type: ignore[assignment]
        changed.append("title")
    for kind, values in ((_EMAILS, emails), (_PHONES, phones)):
        if values is not None:
            _replace_points(session, principal, contact.id, kind, values, corrections)
            changed.append(kind.field)
    session.flush()
    audit.record(
        session,
        principal,
        "contact.update",
        entity="contact",
        entity_id=contact.id,
        fields=changed,
        corrections=[c.as_dict() for c in corrections],
    )
    return contact


def delete_contact(session: Session, principal: Principal, contact_id: int) -> None:
    contact = get_contact(session, principal, contact_id)
    policy.authorize_write(session, principal, "contact", contact)
    org_id = contact.organization_id
    session.delete(contact)
    session.flush()
    audit.record(
        session,
        principal,
        "contact.delete",
        entity="contact",
        entity_id=contact_id,
        organization_id=org_id,
    )
