"""Organizations: the prioritized list, search, creation, claiming and reassignment.

Every function takes the acting :class:`Principal`; reads are filtered by
:mod:`ogcrm.auth.policy` in SQL and writes are checked and audited there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ogcrm.accounts.cleaning import Correction, check_length, clean_one, organization_name
from ogcrm.accounts.events import account_event
from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import (
    Action,
    ChangeRecord,
    Organization,
    OrganizationIdentifier,
    OrganizationScore,
    OrganizationStatus,
    Tag,
    User,
    organization_tag,
)
from ogcrm.db.types import in_values, insert_or_ignore, utcnow
from ogcrm.errors import InvalidInput, NotFound, PermissionDenied
from ogcrm.failpoints import failpoint
from ogcrm.identifiers import IdentifierError, normalize_agency_identifier


def get_organization(session: Session, principal: Principal, org_id: int) -> Organization:
    return policy.get_readable(session, "organization", principal, org_id)  # type: ignore[no-any-return]


def organizations_by_ids(
    session: Session, principal: Principal, ids: Sequence[int]
) -> dict[int, Organization]:
    """The readable ones among ``ids`` (for DataLoaders), keyed by id."""
    stmt = policy.readable(
        select(Organization).where(in_values(session, Organization.id, ids)),
        "organization",
        principal,
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
    check_length(Organization.name, "name", display)
    typed = {k: fields.pop(k) for k in list(fields) if k in EDITABLE}
    values, corrections = clean_fields({k: v for k, v in typed.items() if v is not None})
    fields.update({k: v for k, v in values.items() if v is not None})
    corrections = [*cleaned.corrections, *corrections]
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
        corrections=[c.as_dict() for c in corrections],
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
    failpoint("organization.claim")  # between reading "unowned" and claiming (race tests)
    # two reps claiming one prospect at once: the owner is set only if there is still
    # none, so the second is told it has one instead of both being told they own it
    claimed = session.execute(
        update(Organization)
        .where(Organization.id == org.id, Organization.owner_id.is_(None))
        .values(owner_id=principal.user_id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(org)
    if claimed != 1:
        if org.owner_id == principal.user_id:
            return org
        raise PermissionDenied(
            "this organization already has an owner; ask a manager to reassign it"
        )
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


#: Columns a person edits, each with the import field whose cleaners it runs through,
#: so a typed value is stored in the form an import would store (``Texas`` -> ``TX``).
EDITABLE = {
    "street": "operator_street",
    "city": "operator_city",
    "state": "operator_state",
    "postal_code": "operator_zip",
    "phone": "operator_phone",
    "website": "operator_website",
}
_LABELS = {"postal_code": "postalCode"}


def clean_fields(fields: dict[str, Any]) -> tuple[dict[str, Any], list[Correction]]:
    """Typed organization fields through the import cleaners; ``None`` (or blank)
    clears a field. A value the cleaners refuse is an error naming the field."""
    out: dict[str, Any] = {}
    corrections: list[Correction] = []
    for name, value in fields.items():
        if name not in EDITABLE:
            raise InvalidInput(f"{name} is not an editable field", field=name)
        label = _LABELS.get(name, name)
        if value is None or not str(value).strip():
            out[name] = None
            continue
        cleaned, fixed = clean_one(EDITABLE[name], str(value), label=label)
        if cleaned is None:
            raise InvalidInput(f"{label}: {value!r} is not usable", field=label)
        check_length(Organization.__table__.c[name], label, str(cleaned))
        out[name] = cleaned
        corrections.extend(
            Correction(label, c.original, c.corrected, c.cleaner, c.message) for c in fixed
        )
    return out, corrections


def _person_changed(
    session: Session, principal: Principal, org_id: int, field: str, before: Any, after: Any
) -> None:
    """A person's edit, field by field: what an import then never overwrites."""
    if before == after or principal.user_id is None:
        return
    session.add(
        ChangeRecord(
            user_id=principal.user_id,
            entity="organization",
            entity_id=org_id,
            field=field,
            before=before,
            after=after,
        )
    )


def update_organization(
    session: Session,
    principal: Principal,
    org_id: int,
    *,
    name: str | None = None,
    status: OrganizationStatus | None = None,
    aliases: Sequence[str] | None = None,
    identifiers: dict[str, str] | None = None,
    **fields: Any,
) -> tuple[Organization, list[Correction]]:
    """Change the given fields of an account the principal may write, through the same
    cleaners as an import; each change is recorded as the person's. ``identifiers``
    adds (or moves to this account) ``{agency: identifier}``; ``aliases`` replaces the
    list. Returns the account and the corrections the cleaners made."""
    org = get_organization(session, principal, org_id)
    policy.authorize_write(session, principal, "organization", org)
    values, corrections = clean_fields(fields)
    if name is not None:
        cleaned = organization_name(name)
        check_length(Organization.name, "name", cleaned.display)
        corrections.extend(cleaned.corrections)
        values["name"], values["normalized_name"] = cleaned.display, cleaned.key
    if status is not None:
        values["status"] = status
    if aliases is not None:
        clean_aliases: list[str] = []
        for i, alias in enumerate(aliases):
            text = " ".join(alias.split())
            if not text:
                raise InvalidInput(f"aliases[{i}] is empty", field="aliases")
            if text.upper() not in (a.upper() for a in clean_aliases):
                clean_aliases.append(text)
        values["aliases"] = clean_aliases
    changed: list[str] = []
    for column, after in values.items():
        before = getattr(org, column)
        if before != after:
            _person_changed(session, principal, org.id, column, _plain(before), _plain(after))
            setattr(org, column, after)
            changed.append(column)
    for agency, ident in (identifiers or {}).items():
        try:
            agency_key, ident_key = normalize_agency_identifier(agency, ident)
        except IdentifierError as exc:
            raise InvalidInput(str(exc), field="identifiers") from None
        taken = session.scalar(
            select(OrganizationIdentifier).where(
                OrganizationIdentifier.agency == agency_key,
                OrganizationIdentifier.identifier == ident_key,
            )
        )
        if taken is not None and taken.organization_id != org.id:
            raise InvalidInput(
                f"{agency_key} {ident_key} belongs to another organization", field="identifiers"
            )
        if taken is None:
            try:
                with session.begin_nested():  # another request may claim it meanwhile
                    session.add(
                        OrganizationIdentifier(
                            organization_id=org.id, agency=agency_key, identifier=ident_key
                        )
                    )
            except IntegrityError:
                raise InvalidInput(
                    f"{agency_key} {ident_key} belongs to another organization",
                    field="identifiers",
                ) from None
            _person_changed(session, principal, org.id, f"identifier:{agency_key}", None, ident_key)
            changed.append(f"identifier:{agency_key}")
    session.flush()
    audit.record(
        session,
        principal,
        "organization.update",
        entity="organization",
        entity_id=org.id,
        fields=changed,
        corrections=[c.as_dict() for c in corrections],
    )
    if changed:
        account_event(
            session,
            org.id,
            "details_edited",
            "edited: " + ", ".join(changed),
            user_id=principal.user_id,
            owner_id=org.owner_id,
            data={"fields": changed},
        )
    return org, corrections


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, OrganizationStatus) else value


def set_tags(
    session: Session,
    principal: Principal,
    org_id: int,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
) -> list[str]:
    """Tag and untag an account (tags are created on first use, lower case); returns
    its tags after the change."""
    org = get_organization(session, principal, org_id)
    policy.authorize_write(session, principal, "organization", org)

    def norm(names: Sequence[str], label: str) -> list[str]:
        out = []
        for i, raw in enumerate(names):
            tag = " ".join(raw.split()).lower()
            if not tag or len(tag) > 64:
                raise InvalidInput(f"{label}[{i}] must be 1 to 64 characters", field=label)
            out.append(tag)
        return out

    adding, removing = norm(add, "add"), norm(remove, "remove")
    before = sorted(
        session.scalars(
            select(Tag.name)
            .join(organization_tag, organization_tag.c.tag_id == Tag.id)
            .where(organization_tag.c.organization_id == org.id)
        )
    )
    failpoint("organization.tag")
    for tag in adding:
        if tag in before:
            continue
        # two people tagging at once: whoever comes second finds the tag (and the
        # link) there already, instead of failing on the unique key
        insert_or_ignore(session, Tag.__table__, [{"name": tag}])
        tag_id = session.scalar(select(Tag.id).where(Tag.name == tag))
        insert_or_ignore(session, organization_tag, [{"organization_id": org.id, "tag_id": tag_id}])
    if removing:
        session.execute(
            organization_tag.delete().where(
                organization_tag.c.organization_id == org.id,
                organization_tag.c.tag_id.in_(select(Tag.id).where(Tag.name.in_(removing))),
            )
        )
    after = sorted((set(before) | set(adding)) - set(removing))
    _person_changed(session, principal, org.id, "tags", before, after)
    if before != after:
        audit.record(
            session,
            principal,
            "organization.tag",
            entity="organization",
            entity_id=org.id,
            before=before,
            after=after,
        )
    return after
