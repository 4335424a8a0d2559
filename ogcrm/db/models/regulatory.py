"""Public regulatory data merged from agency datasets: wells, permits, production."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ogcrm.db.base import Base, IdMixin, TimestampMixin, dataset_reference, foreign_key

# Portable "only digits" test: SQLite and PostgreSQL both have ltrim(string, characters).
_DIGITS_ONLY = "ltrim({col}, '0123456789') = ''"


class Well(IdMixin, TimestampMixin, Base):
    """A well, keyed by its API number normalized to 10 digits.

    The database itself refuses an API number in any other shape (dashes, 12 or 14
    digits, missing state code), so two spellings of one well can never become two rows:
    normalization happens before the row is written, uniqueness is enforced on the
    result. The 14-digit form (sidetrack and event code) is kept beside it when known.
    """

    __tablename__ = "well"
    __table_args__ = (
        CheckConstraint(
            f"length(api10) = 10 AND {_DIGITS_ONLY.format(col='api10')}", name="api10_is_10_digits"
        ),
        CheckConstraint(
            "api14 IS NULL OR (length(api14) = 14 AND "
            f"{_DIGITS_ONLY.format(col='api14')} AND substr(api14, 1, 10) = api10)",
            name="api14_extends_api10",
        ),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint(
            "longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"
        ),
    )

    api10: Mapped[str] = mapped_column(String(10), unique=True)
    api14: Mapped[str | None] = mapped_column(String(14))
    name: Mapped[str | None] = mapped_column(String(200))
    operator_id: Mapped[int | None] = foreign_key(
        "organization.id", nullable=True, ondelete="SET NULL"
    )
    state: Mapped[str | None] = mapped_column(String(2))
    county: Mapped[str | None] = mapped_column(String(100))
    county_fips: Mapped[str | None] = mapped_column(String(5))
    field_name: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    #: Datum of the stored coordinates (``NAD83``, ``WGS84``), and of any conversion made.
    datum: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(32))
    well_type: Mapped[str | None] = mapped_column(String(32))
    spud_date: Mapped[dt.date | None] = mapped_column()
    completion_date: Mapped[dt.date | None]
    dataset_id: Mapped[int | None] = dataset_reference()


class Permit(IdMixin, TimestampMixin, Base):
    """A drilling permit, unique by its number within the issuing agency."""

    __tablename__ = "permit"
    __table_args__ = (
        UniqueConstraint("agency", "permit_number"),
        CheckConstraint(
            "permit_number = upper(trim(permit_number)) AND permit_number <> ''",
            name="permit_number_normalized",
        ),
        CheckConstraint("agency = lower(trim(agency)) AND agency <> ''", name="agency_normalized"),
        Index("ix_permit_operator_id_issued_on", "operator_id", "issued_on"),
    )

    agency: Mapped[str] = mapped_column(String(32))
    permit_number: Mapped[str] = mapped_column(String(64))
    well_id: Mapped[int | None] = foreign_key("well.id", nullable=True, ondelete="SET NULL")
    operator_id: Mapped[int | None] = foreign_key(
        "organization.id", nullable=True, ondelete="SET NULL", index=False
    )
    permit_type: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(64))
    received_on: Mapped[dt.date | None]
    issued_on: Mapped[dt.date | None] = mapped_column(index=True)
    expires_on: Mapped[dt.date | None]
    total_depth_ft: Mapped[float | None]
    state: Mapped[str | None] = mapped_column(String(2))
    county: Mapped[str | None] = mapped_column(String(100))
    lease_name: Mapped[str | None] = mapped_column(String(200))
    dataset_id: Mapped[int | None] = dataset_reference()


class ProductionReport(IdMixin, TimestampMixin, Base):
    """A month of production for one well, or for one lease when the agency reports by lease."""

    __tablename__ = "production_report"
    __table_args__ = (
        UniqueConstraint("well_id", "month"),
        UniqueConstraint("agency", "lease_number", "month"),
        CheckConstraint("well_id IS NOT NULL OR lease_number IS NOT NULL", name="well_or_lease"),
        CheckConstraint("oil_bbl IS NULL OR oil_bbl >= 0", name="oil_bbl_not_negative"),
        CheckConstraint("gas_mcf IS NULL OR gas_mcf >= 0", name="gas_mcf_not_negative"),
        CheckConstraint("water_bbl IS NULL OR water_bbl >= 0", name="water_bbl_not_negative"),
        Index("ix_production_report_operator_id_month", "operator_id", "month"),
    )

    well_id: Mapped[int | None] = foreign_key(
        "well.id", nullable=True, ondelete="CASCADE", index=False
    )
    agency: Mapped[str | None] = mapped_column(String(32))
    lease_number: Mapped[str | None] = mapped_column(String(64))
    operator_id: Mapped[int | None] = foreign_key(
        "organization.id", nullable=True, ondelete="SET NULL", index=False
    )
    #: First day of the reported month.
    month: Mapped[dt.date]
    oil_bbl: Mapped[float | None]
    gas_mcf: Mapped[float | None]
    water_bbl: Mapped[float | None]
    days_produced: Mapped[int | None]
    dataset_id: Mapped[int | None] = dataset_reference()
