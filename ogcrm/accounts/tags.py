"""Tags: one vocabulary (lower case, 1 to 64 characters) for organizations and contacts.

Tagging a record is a change to that record (its write scope); the vocabulary itself
(renaming, merging) is the ``tag`` grant's (admins and managers). Links are inserted or
found, never failed on the unique key, so two people tagging at once both succeed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ogcrm.accounts.organizations import set_tags
from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Action, Contact, Tag, contact_tag, organization_tag
from ogcrm.db.types import insert_or_ignore
from ogcrm.errors import Conflict, InvalidInput, NotFound
from ogcrm.failpoints import failpoint

MAX_BULK = 500


@dataclass(frozen=True)
class TagUse:
    name: str
    organizations: int
    contacts: int


def normalize(raw: str, field: str) -> str:
    tag = " ".join(raw.split()).lower()
    if not tag or len(tag) > 64:
        raise InvalidInput(f"{field} must be 1 to 64 characters", field=field)
    return tag


def _tag_id(session: Session, name: str) -> int:
    insert_or_ignore(session, Tag.__table__, [{"name": name}])
    tag_id = session.scalar(select(Tag.id).where(Tag.name == name))
    assert tag_id is not None
    return tag_id


def list_tags(session: Session) -> list[TagUse]:
    """Every tag with how many organizations and contacts carry it, by name."""
    orgs = (
        select(organization_tag.c.tag_id, func.count().label("n"))
        .group_by(organization_tag.c.tag_id)
        .subquery()
    )
    people = (
        select(contact_tag.c.tag_id, func.count().label("n"))
        .group_by(contact_tag.c.tag_id)
        .subquery()
    )
    stmt = (
        select(Tag.name, func.coalesce(orgs.c.n, 0), func.coalesce(people.c.n, 0))
        .outerjoin(orgs, orgs.c.tag_id == Tag.id)
        .outerjoin(people, people.c.tag_id == Tag.id)
        .order_by(Tag.name)
    )
    return [TagUse(name, int(o), int(c)) for name, o, c in session.execute(stmt)]


def rename_tag(session: Session, principal: Principal, name: str, to: str) -> str:
    """Rename a tag everywhere it is used; to a name in use, merge instead."""
    policy.require(principal, "tag", Action.WRITE)
    old, new = normalize(name, "name"), normalize(to, "to")
    row = session.scalar(select(Tag).where(Tag.name == old))
    if row is None:
        raise NotFound(f"no tag {old!r}")
    if old != new and session.scalar(select(Tag.id).where(Tag.name == new)) is not None:
        raise InvalidInput(f"a tag {new!r} exists: merge {old!r} into it", field="to")
    failpoint("tag.rename")  # between the checks and the rename (race tests)
    try:
        with session.begin_nested():
            # conditional on the name read: a rename made meanwhile is not overwritten
            renamed = session.execute(
                update(Tag)
                .where(Tag.id == row.id, Tag.name == old)
                .values(name=new)
                .execution_options(synchronize_session=False)
            ).rowcount
    except IntegrityError:  # another rename took the name meanwhile
        raise InvalidInput(f"a tag {new!r} exists: merge {old!r} into it", field="to") from None
    if not renamed:
        raise Conflict(f"tag {old!r} was renamed meanwhile", state="renamed")
    audit.record(
        session, principal, "tag.rename", entity="tag", entity_id=row.id, before=old, after=new
    )
    return new


def merge_tags(session: Session, principal: Principal, tags: Sequence[str], into: str) -> str:
    """Move every record tagged with one of ``tags`` to ``into`` (created if need be), then
    delete ``tags``: two spellings become one."""
    policy.require(principal, "tag", Action.WRITE)
    target = normalize(into, "into")
    sources = sorted({normalize(t, "tags") for t in tags} - {target})
    source_ids = list(session.scalars(select(Tag.id).where(Tag.name.in_(sources))))
    if not source_ids:
        raise NotFound("none of those tags exists")
    target_id = _tag_id(session, target)
    for table, key in ((organization_tag, "organization_id"), (contact_tag, "contact_id")):
        column = table.c[key]
        owners = session.scalars(select(column).where(table.c.tag_id.in_(source_ids)).distinct())
        insert_or_ignore(session, table, [{key: owner, "tag_id": target_id} for owner in owners])
    session.execute(delete(Tag).where(Tag.id.in_(source_ids)))
    audit.record(
        session,
        principal,
        "tag.merge",
        entity="tag",
        entity_id=target_id,
        merged=sources,
        into=target,
    )
    return target


def tag_organizations(
    session: Session,
    principal: Principal,
    organization_ids: Sequence[int],
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
) -> dict[int, list[str]]:
    """Tag and untag many accounts at once (each within the principal's write scope,
    each change recorded as the person's); their tags after."""
    if len(organization_ids) > MAX_BULK:
        raise InvalidInput(f"at most {MAX_BULK} at once", field="ids")
    return {
        org_id: set_tags(session, principal, org_id, add=add, remove=remove)
        for org_id in dict.fromkeys(organization_ids)
    }


def tag_contacts(
    session: Session,
    principal: Principal,
    contact_ids: Sequence[int],
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
) -> dict[int, list[str]]:
    """Tag and untag many contacts at once (each must be one the principal may change)."""
    ids = list(dict.fromkeys(contact_ids))
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"at most {MAX_BULK} at once", field="ids")
    adding = [normalize(t, "add") for t in add]
    removing = [normalize(t, "remove") for t in remove]
    rows = {
        c.id: c
        for c in session.scalars(
            policy.readable(select(Contact).where(Contact.id.in_(ids)), "contact", principal)
        )
    }
    for contact_id in ids:
        if contact_id not in rows:
            raise NotFound(f"contact {contact_id} not found")
        policy.authorize_write(session, principal, "contact", rows[contact_id])
    tag_ids = [_tag_id(session, t) for t in adding]
    insert_or_ignore(
        session, contact_tag, [{"contact_id": c, "tag_id": t} for c in ids for t in tag_ids]
    )
    if removing:
        session.execute(
            contact_tag.delete().where(
                contact_tag.c.contact_id.in_(ids),
                contact_tag.c.tag_id.in_(select(Tag.id).where(Tag.name.in_(removing))),
            )
        )
    audit.record(
        session, principal, "contact.tag", entity="contact", ids=ids, add=adding, remove=removing
    )
    return tags_of_contacts(session, ids)


def tags_of_contacts(session: Session, contact_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {c: [] for c in contact_ids}
    stmt = (
        select(contact_tag.c.contact_id, Tag.name)
        .join(Tag, Tag.id == contact_tag.c.tag_id)
        .where(contact_tag.c.contact_id.in_(list(contact_ids)))
        .order_by(Tag.name)
    )
    for contact_id, name in session.execute(stmt):
        out[contact_id].append(name)
    return out
