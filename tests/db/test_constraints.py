"""Natural keys and invariants are enforced by the database, not only by Python."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.db.models import (
    Contact,
    Organization,
    OrganizationIdentifier,
    Permit,
    Product,
    Role,
    RuleSet,
    RuleSetStatus,
    User,
    Well,
)
from ogcrm.db.session import Database
from ogcrm.identifiers import normalize_api_number


def _org(session, name: str = "Acme Operating LLC", **kwargs) -> Organization:
    return create_organization(session, system_principal("test"), name=name, **kwargs)


def _refused(db: Database, *rows_or_sql) -> str:
    """Write in one unit of work; return the database's refusal message."""
    with pytest.raises(IntegrityError) as info, db.unit_of_work() as session:
        for item in rows_or_sql:
            if isinstance(item, str):
                session.execute(text(item))
            else:
                session.add(item)
                session.flush()
    return str(info.value.orig).lower()


class TestWellApiNumber:
    def test_same_api_number_written_two_ways_is_one_well(self, db: Database):
        first = normalize_api_number("42-123-45678")
        second = normalize_api_number("4212345678")
        with db.unit_of_work() as session:
            session.add(Well(api10=first.api10))
        message = _refused(db, Well(api10=second.api10))
        assert "unique" in message or "duplicate" in message

    def test_an_unnormalized_api_number_is_refused_by_the_database(self, db: Database):
        message = _refused(
            db,
            "INSERT INTO well (api10, created_at, updated_at) "
            "VALUES ('42-1234567', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        )
        assert "api10_is_10_digits" in message or "check" in message

    def test_api14_must_extend_the_wells_api10(self, db: Database):
        message = _refused(db, Well(api10="4212345678", api14="42999999990000"))
        assert "api14_extends_api10" in message or "check" in message

    def test_latitude_out_of_range_is_refused(self, db: Database):
        message = _refused(db, Well(api10="4212345678", latitude=132.0))
        assert "latitude_range" in message or "check" in message


class TestOperatorIdentifier:
    def test_one_agency_operator_id_cannot_belong_to_two_organizations(self, db: Database):
        with db.unit_of_work() as session:
            _org(session, "Pioneer Natural Res. USA, Inc.", identifiers={"rrc": "020528"})
        with pytest.raises(IntegrityError), db.unit_of_work() as session:
            _org(session, "Pioneer Natural Resources USA", identifiers={"RRC": " 020528 "})

    def test_the_same_number_at_another_agency_is_a_different_id(self, db: Database):
        with db.unit_of_work() as session:
            _org(session, "A Operating", identifiers={"rrc": "10651"})
            _org(session, "B Operating", identifiers={"ecmc": "10651"})
        with db.read() as session:
            assert len(session.scalars(select(OrganizationIdentifier)).all()) == 2

    def test_an_unnormalized_identifier_is_refused_by_the_database(self, db: Database):
        with db.unit_of_work() as session:
            org_id = _org(session).id
        message = _refused(
            db, OrganizationIdentifier(organization_id=org_id, agency="RRC", identifier="x1")
        )
        assert "normalized" in message or "check" in message


class TestOtherKeys:
    def test_permit_number_is_unique_per_agency(self, db: Database):
        with db.unit_of_work() as session:
            session.add_all(
                [
                    Permit(agency="rrc", permit_number="912345"),
                    Permit(agency="nmocd", permit_number="912345"),
                ]
            )
        _refused(db, Permit(agency="rrc", permit_number="912345"))

    def test_only_one_rule_set_is_active(self, db: Database):
        with db.unit_of_work() as session:
            session.add(RuleSet(name="default", version=1, status=RuleSetStatus.ACTIVE))
            session.add(RuleSet(name="default", version=2, status=RuleSetStatus.DRAFT))
        _refused(db, RuleSet(name="other", version=1, status=RuleSetStatus.ACTIVE))

    def test_user_email_is_unique_and_stored_lower_case(self, db: Database):
        with db.unit_of_work() as session:
            role_id = session.scalar(select(Role.id).where(Role.name == "sales"))
            session.add(User(email="rep@example.com", name="Rep", role_id=role_id))
        _refused(db, User(email="rep@example.com", name="Rep 2", role_id=role_id))
        _refused(db, User(email="Rep2@Example.com", name="Rep 2", role_id=role_id))

    def test_foreign_keys_are_enforced(self, db: Database):
        message = _refused(db, Contact(organization_id=999_999, full_name="Nobody"))
        assert "foreign key" in message

    def test_enum_columns_refuse_unknown_values(self, db: Database):
        _refused(
            db,
            "INSERT INTO organization (name, normalized_name, aliases, status, country, "
            "created_at, updated_at) VALUES ('X', 'X', '[]', 'bogus', "
            "'US', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        )

    def test_negative_prices_are_refused(self, db: Database):
        _refused(db, Product(sku="P-1", name="Pump", unit_price=Decimal("-1.00")))


class TestTypes:
    def test_timestamps_come_back_timezone_aware_utc(self, db: Database):
        moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
        with db.unit_of_work() as session:
            org = _org(session, override_expires_at=moment)
            org_id = org.id
        with db.read() as session:
            stored = session.get(Organization, org_id)
            assert stored is not None
            assert stored.override_expires_at == moment
            assert stored.override_expires_at.tzinfo is dt.UTC
            assert stored.created_at.tzinfo is dt.UTC

    def test_naive_datetimes_are_refused_before_reaching_the_database(self, db: Database):
        with pytest.raises(Exception, match="naive datetime"), db.unit_of_work() as session:
            _org(session, override_expires_at=dt.datetime(2026, 1, 1))
