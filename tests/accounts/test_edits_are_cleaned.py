"""A person's edits go through the same cleaners as imports, and are recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ogcrm.accounts.contacts import create_contact, update_contact
from ogcrm.accounts.organizations import create_organization
from ogcrm.db.models import AuditEvent, ChangeRecord, ContactPhone
from ogcrm.errors import InvalidInput


@pytest.fixture
def rep(users, db):
    return users.create("admin").principal(db)


def test_typed_phone_is_stored_as_e164_and_recorded_as_a_change(db, rep):
    with db.unit_of_work() as session:
        org = create_organization(session, rep, name="  Pioneer Natural Res. USA, Inc. ")
        assert (org.name, org.normalized_name) == (
            "Pioneer Natural Res. USA, Inc.",
            "PIONEER NATURAL RESOURCES USA",
        )
        contact = create_contact(
            session, rep, organization_id=org.id, full_name="Dana Cole", phones=["(432) 555-0199"]
        )
        contact_id = contact.id
    with db.unit_of_work() as session:
        update_contact(session, rep, contact_id, phones=["(432) 555-0100", "432.555.0100"])
    with db.read() as session:
        numbers = session.scalars(
            select(ContactPhone.number).where(ContactPhone.contact_id == contact_id)
        ).all()
        assert numbers == ["+14325550100"]  # the two spellings are one number
        changes = session.scalars(
            select(ChangeRecord)
            .where(ChangeRecord.entity == "contact", ChangeRecord.field == "phones")
            .order_by(ChangeRecord.id)
        ).all()
        assert [(c.before, c.after, c.user_id) for c in changes] == [
            (None, ["+14325550199"], rep.user_id),
            (["+14325550199"], ["+14325550100"], rep.user_id),
        ]
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "contact.update")
        ).one()
        assert event.details["corrections"][0] == {
            "field": "phones[0]",
            "original": "(432) 555-0100",
            "corrected": "+14325550100",
            "cleaner": "phone",
            "message": "written as E.164",
        }


def test_a_value_the_cleaners_refuse_names_the_field_and_changes_nothing(db, rep):
    with db.unit_of_work() as session:
        org_id = create_organization(session, rep, name="Acme Oil Co.").id
        contact_id = create_contact(
            session, rep, organization_id=org_id, full_name="Lee", phones=["4325550101"]
        ).id
    with (
        pytest.raises(InvalidInput, match=r"phones\[1\]: not a phone number; left empty"),
        db.unit_of_work() as session,
    ):
        update_contact(session, rep, contact_id, phones=["4325550102", "555-01"])
    with db.read() as session:
        numbers = session.scalars(
            select(ContactPhone.number).where(ContactPhone.contact_id == contact_id)
        ).all()
        assert numbers == ["+14325550101"]


def test_email_domain_is_lower_cased(db, rep):
    with db.unit_of_work() as session:
        org_id = create_organization(session, rep, name="Acme Oil Co.").id
        contact = create_contact(
            session, rep, organization_id=org_id, full_name="Kim", emails=["Kim.Lee@AcmeOil.COM"]
        )
        assert [e.address for e in contact.emails] == ["Kim.Lee@acmeoil.com"]
