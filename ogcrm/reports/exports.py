"""What can be exported, and the one scoped statement each export runs.

An export is a kind (organizations, contacts, wells, permits, a dataset's cleaned rows or
its corrections) with a filter given as ``name=value`` pairs: the same pairs arrive as
an HTTP query string (``GET /exports/permits?county=REEVES&withinDays=90``) and as the
CLI's ``--filter county=REEVES``. Each pair is parsed here into the typed filters the
account pages already use (:mod:`ogcrm.accounts.worklist`, :mod:`ogcrm.accounts.holdings`),
so an export holds exactly the rows the list would, in the caller's scope, and a bad
value is an ``InvalidInput`` naming its parameter.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from ogcrm.accounts import worklist
from ogcrm.accounts.holdings import WellFilter, permit_conditions, well_conditions
from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.datasets.queries import get_dataset
from ogcrm.db.models import (
    Action,
    CellIssue,
    Contact,
    ContactEmail,
    ContactPhone,
    Interaction,
    Organization,
    OrganizationScore,
    Permit,
    RowOutcome,
    StagedRow,
    User,
    Well,
)
from ogcrm.errors import InvalidInput
from ogcrm.pipeline.fields import kind_of
from ogcrm.reports.columns import Column, Kind
from ogcrm.reports.definitions import Period, get_report, parse
from ogcrm.reports.run import ordering, result_columns, statement

#: Canonical field kinds whose values are numbers (kept numbers in every format).
_NUMERIC_FIELDS = {"number", "integer", "latitude", "longitude", "year"}
_NUMERIC_FIELDS |= {"utm_easting", "utm_northing", "utm_zone"}


class ExportKind(enum.StrEnum):
    ORGANIZATIONS = "organizations"
    CONTACTS = "contacts"
    INTERACTIONS = "interactions"
    WELLS = "wells"
    PERMITS = "permits"
    DATASET_ROWS = "dataset-rows"
    DATASET_ISSUES = "dataset-issues"
    REPORT = "report"


class Format(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"


@dataclass(frozen=True)
class Export:
    """A planned export: its columns and the scoped statement that yields its rows (in
    column order), ordered so two runs of one export list rows alike."""

    kind: str
    columns: Sequence[Column]
    base: Select[Any]
    #: The key columns the rows are ordered by.
    order_by: Sequence[Any]
    #: The contacts an export of contacts reads, for the read audit.
    contact_ids: Select[Any] | None = None

    def statement(self, exprs: Sequence[Any] | None = None) -> Select[Any]:
        """The rows with each column's expression (or ``exprs``, one per column)."""
        chosen = exprs if exprs is not None else [c.expr for c in self.columns]
        labelled = [e.label(c.name) for e, c in zip(chosen, self.columns, strict=True)]
        return self.base.with_only_columns(*labelled).order_by(*self.order_by)

    def count(self, session: Session) -> int:
        stmt = self.base.with_only_columns(func.count()).order_by(None)
        return int(session.scalar(stmt) or 0)


class Params:
    """``name=value`` pairs (a name may repeat), read once each: whatever is left
    unread at the end is an unknown filter, refused with its name."""

    def __init__(self, pairs: Mapping[str, Sequence[str]]) -> None:
        self._pairs = {k: list(v) for k, v in pairs.items()}
        self._read: set[str] = set()

    def all(self, name: str) -> list[str]:
        self._read.add(name)
        return [v for v in self._pairs.get(name, []) if v.strip()]

    def text(self, name: str) -> str | None:
        values = self.all(name)
        if len(values) > 1:
            raise InvalidInput(f"{name} is given {len(values)} times", field=name)
        return values[0].strip() if values else None

    def integer(self, name: str, *, low: int = 0, high: int = 2**31 - 1) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            raise InvalidInput(
                f"{name} must be a whole number, not {value!r}", field=name
            ) from None
        if not low <= number <= high:
            raise InvalidInput(f"{name} must be between {low} and {high}", field=name)
        return number

    def number(self, name: str) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            raise InvalidInput(f"{name} must be a number, not {value!r}", field=name) from None

    def done(self, kind: str) -> None:
        unknown = sorted(set(self._pairs) - self._read)
        if unknown:
            known = ", ".join(sorted(self._read))
            raise InvalidInput(
                f"unknown filter {unknown[0]!r} for {kind} (known: {known})", field=unknown[0]
            )


def organization_filter(params: Params) -> worklist.OrganizationFilter:
    """The working list's filter from query pairs (the names of the GraphQL input)."""
    owner = params.text("owner")
    owner_kind: worklist.Owner | None = None
    owner_id: int | None = None
    if owner is not None:
        if owner.isdigit():
            owner_id = int(owner)
        else:
            try:
                owner_kind = worklist.Owner(owner.lower())
            except ValueError:
                raise InvalidInput(
                    "owner is mine, unowned, team or a user id", field="owner"
                ) from None
    permit_county, permit_days = params.text("permitCounty"), params.integer("permitWithinDays")
    return worklist.OrganizationFilter(
        owner=owner_kind,
        owner_id=owner_id,
        state=params.text("state"),
        county=params.text("county"),
        tags_any=params.all("tag"),
        priority_gte=params.number("priorityGte"),
        priority_lte=params.number("priorityLte"),
        search=params.text("search"),
        permit=worklist.PermitFilter(county=permit_county, within_days=permit_days)
        if permit_county or permit_days is not None
        else None,
        no_interaction_days=params.integer("noInteractionForDays"),
        segment_id=params.integer("segment", low=1),
    )


def _organizations(session: Session, principal: Principal, params: Params) -> Export:
    owner = aliased(User)
    base = worklist.matching(session, principal, organization_filter(params)).outerjoin(
        owner, owner.id == Organization.owner_id
    )
    columns = [
        Column("id", Organization.id, Kind.NUMBER),
        Column("name", Organization.name),
        Column("status", Organization.status),
        Column("street", Organization.street),
        Column("city", Organization.city),
        Column("state", Organization.state),
        Column("postal_code", Organization.postal_code),
        Column("phone", Organization.phone),
        Column("website", Organization.website),
        Column("owner", owner.email),
        Column("priority", OrganizationScore.priority, Kind.NUMBER),
        Column("updated_at", Organization.updated_at, Kind.DATETIME),
    ]
    return Export(ExportKind.ORGANIZATIONS, columns, base, [Organization.id])


def _of_organizations(
    session: Session, principal: Principal, params: Params, base: Select[Any], column: Any
) -> Select[Any]:
    """``base`` narrowed to rows whose ``column`` names an organization the working
    list's filter (read from ``params``) picks; unchanged when no filter is given."""
    where = organization_filter(params)
    if where == worklist.OrganizationFilter():
        return base
    orgs = worklist.matching(session, principal, where).with_only_columns(Organization.id)
    return base.where(column.in_(orgs))


def _first_point(model: Any, value: Any) -> Any:
    return (
        select(value)
        .where(model.contact_id == Contact.id)
        .order_by(model.is_primary.desc(), model.id)
        .limit(1)
        .scalar_subquery()
    )


def _contacts(session: Session, principal: Principal, params: Params) -> Export:
    policy.require(principal, "contact", Action.READ)
    base = policy.readable(
        select(Contact.id).join(Organization, Organization.id == Contact.organization_id),
        "contact",
        principal,
    )
    base = _of_organizations(session, principal, params, base, Contact.organization_id)
    columns = [
        Column("id", Contact.id, Kind.NUMBER),
        Column("full_name", Contact.full_name),
        Column("title", Contact.title),
        Column("organization_id", Contact.organization_id, Kind.NUMBER),
        Column("organization", Organization.name),
        Column("email", _first_point(ContactEmail, ContactEmail.address), sensitive=True),
        Column("phone", _first_point(ContactPhone, ContactPhone.number), sensitive=True),
        Column("consent", Contact.consent),
        Column("updated_at", Contact.updated_at, Kind.DATETIME),
    ]
    return Export(
        ExportKind.CONTACTS,
        columns,
        base,
        [Contact.id],
        contact_ids=base.with_only_columns(Contact.id),
    )


def _interactions(session: Session, principal: Principal, params: Params) -> Export:
    """Calls, e-mails, meetings and notes, newest last, of the organizations the
    organizations' filters pick; ``withinDays`` bounds how far back."""
    policy.require(principal, "interaction", Action.READ)
    days = params.integer("withinDays")
    rep, contact = aliased(User), aliased(Contact)
    base = policy.readable(
        select(Interaction.id)
        .join(Organization, Organization.id == Interaction.organization_id)
        .outerjoin(rep, rep.id == Interaction.user_id)
        .outerjoin(contact, contact.id == Interaction.contact_id),
        "interaction",
        principal,
    )
    base = _of_organizations(session, principal, params, base, Interaction.organization_id)
    if days is not None:
        base = base.where(Interaction.occurred_at >= worklist.days_ago(days, "withinDays"))
    columns = [
        Column("id", Interaction.id, Kind.NUMBER),
        Column("occurred_at", Interaction.occurred_at, Kind.DATETIME),
        Column("kind", Interaction.kind),
        Column("organization_id", Interaction.organization_id, Kind.NUMBER),
        Column("organization", Organization.name),
        Column("contact", contact.full_name),
        Column("rep", rep.email),
        Column("subject", Interaction.subject),
        Column("notes", Interaction.notes),
    ]
    return Export(ExportKind.INTERACTIONS, columns, base, [Interaction.occurred_at, Interaction.id])


def _operator(params: Params) -> list[Any]:
    operator = params.integer("operator", low=1)
    return [] if operator is None else [operator]


def _wells(session: Session, principal: Principal, params: Params) -> Export:
    policy.require(principal, "well", Action.READ)
    wanted = WellFilter(
        county=params.text("county"), state=params.text("state"), status=params.text("status")
    )
    base = policy.readable(
        select(Well.id).outerjoin(Organization, Organization.id == Well.operator_id),
        "well",
        principal,
    ).where(*well_conditions(wanted))
    for operator in _operator(params):
        base = base.where(Well.operator_id == operator)
    columns = [
        Column("api10", Well.api10),
        Column("api14", Well.api14),
        Column("name", Well.name),
        Column("operator_id", Well.operator_id, Kind.NUMBER),
        Column("operator", Organization.name),
        Column("state", Well.state),
        Column("county", Well.county),
        Column("county_fips", Well.county_fips),
        Column("field_name", Well.field_name),
        Column("latitude", Well.latitude, Kind.NUMBER),
        Column("longitude", Well.longitude, Kind.NUMBER),
        Column("status", Well.status),
        Column("well_type", Well.well_type),
        Column("spud_date", Well.spud_date, Kind.DATE),
        Column("completion_date", Well.completion_date, Kind.DATE),
    ]
    return Export(ExportKind.WELLS, columns, base, [Well.id])


def _permits(session: Session, principal: Principal, params: Params) -> Export:
    policy.require(principal, "permit", Action.READ)
    wanted = worklist.PermitFilter(
        county=params.text("county"),
        state=params.text("state"),
        within_days=params.integer("withinDays"),
    )
    base = (
        policy.readable(
            select(Permit.id).outerjoin(Organization, Organization.id == Permit.operator_id),
            "permit",
            principal,
        )
        .outerjoin(Well, Well.id == Permit.well_id)
        .where(*permit_conditions(wanted))
    )
    for operator in _operator(params):
        base = base.where(Permit.operator_id == operator)
    columns = [
        Column("permit_number", Permit.permit_number),
        Column("agency", Permit.agency),
        Column("api10", Well.api10),
        Column("operator_id", Permit.operator_id, Kind.NUMBER),
        Column("operator", Organization.name),
        Column("permit_type", Permit.permit_type),
        Column("status", Permit.status),
        Column("received_on", Permit.received_on, Kind.DATE),
        Column("issued_on", Permit.issued_on, Kind.DATE),
        Column("expires_on", Permit.expires_on, Kind.DATE),
        Column("total_depth_ft", Permit.total_depth_ft, Kind.NUMBER),
        Column("state", Permit.state),
        Column("county", Permit.county),
        Column("lease_name", Permit.lease_name),
    ]
    return Export(ExportKind.PERMITS, columns, base, [Permit.id])


def _dataset_id(session: Session, principal: Principal, params: Params) -> int:
    dataset_id = params.integer("dataset", low=1)
    if dataset_id is None:
        raise InvalidInput("dataset (its id) is required", field="dataset")
    get_dataset(session, principal, dataset_id)  # NotFound outside the caller's reach
    return dataset_id


def _dataset_rows(session: Session, principal: Principal, params: Params) -> Export:
    dataset_id = _dataset_id(session, principal, params)
    outcome = params.text("outcome")
    base = select(StagedRow.id).where(StagedRow.dataset_id == dataset_id)
    if outcome is not None:
        try:
            base = base.where(StagedRow.outcome == RowOutcome(outcome.lower()))
        except ValueError:
            known = ", ".join(o.value for o in RowOutcome)
            raise InvalidInput(f"outcome is one of {known}", field="outcome") from None
    first = session.scalar(
        select(StagedRow.cleaned).where(StagedRow.dataset_id == dataset_id).limit(1)
    )
    fields = sorted(first or {})
    cleaned = StagedRow.cleaned
    columns = [
        Column("row_number", StagedRow.row_number, Kind.NUMBER),
        Column("outcome", StagedRow.outcome),
        *(
            Column(name, cleaned[name].as_float(), Kind.NUMBER)
            if kind_of(name) in _NUMERIC_FIELDS
            else Column(name, cleaned[name].as_string())
            for name in fields
        ),
    ]
    return Export(ExportKind.DATASET_ROWS, columns, base, [StagedRow.row_number])


def _dataset_issues(session: Session, principal: Principal, params: Params) -> Export:
    dataset_id = _dataset_id(session, principal, params)
    base = select(CellIssue.id).where(CellIssue.dataset_id == dataset_id)
    column = params.text("column")
    if column is not None:
        base = base.where(CellIssue.column == column)
    cleaner = params.text("cleaner")
    if cleaner is not None:
        base = base.where(CellIssue.cleaner == cleaner)
    columns = [
        Column("row_number", CellIssue.row_number, Kind.NUMBER),
        Column("column", CellIssue.column),
        Column("original", CellIssue.original),
        Column("corrected", CellIssue.corrected),
        Column("cleaner", CellIssue.cleaner),
        Column("severity", CellIssue.severity),
        Column("message", CellIssue.message),
    ]
    return Export(ExportKind.DATASET_ISSUES, columns, base, [CellIssue.row_number, CellIssue.id])


def _report(session: Session, principal: Principal, params: Params) -> Export:
    """A saved report's result (every group up to its limit), in the caller's scope."""
    report_id = params.integer("report", low=1)
    if report_id is None:
        raise InvalidInput("report (its id) is required", field="report")
    definition = parse(get_report(session, principal, report_id).definition)
    period = Period(_date(params, "start"), _date(params, "end"))
    grouped = statement(session, principal, definition, period).limit(definition.limit).subquery()
    columns = [
        Column(c.name, grouped.c[c.name], Kind.NUMBER if _numeric(grouped.c[c.name]) else Kind.TEXT)
        for c in result_columns(definition)
    ]
    order = ordering(definition, lambda name: grouped.c[name])
    return Export(ExportKind.REPORT, columns, select(grouped.c[columns[0].name]), order)


def _numeric(column: Any) -> bool:
    try:
        return column.type.python_type in (int, float, Decimal)
    except NotImplementedError:
        return False


def _date(params: Params, name: str) -> dt.date | None:
    value = params.text(name)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{name} must be a date (YYYY-MM-DD), not {value!r}", field=name
        ) from None


_PLANNERS: dict[ExportKind, Callable[[Session, Principal, Params], Export]] = {
    ExportKind.ORGANIZATIONS: _organizations,
    ExportKind.CONTACTS: _contacts,
    ExportKind.INTERACTIONS: _interactions,
    ExportKind.WELLS: _wells,
    ExportKind.PERMITS: _permits,
    ExportKind.DATASET_ROWS: _dataset_rows,
    ExportKind.DATASET_ISSUES: _dataset_issues,
    ExportKind.REPORT: _report,
}


def parse_kind(value: str) -> ExportKind:
    try:
        return ExportKind(value)
    except ValueError:
        known = ", ".join(k.value for k in ExportKind)
        raise InvalidInput(
            f"nothing to export called {value!r} (known: {known})", field="kind"
        ) from None


def parse_format(value: str) -> Format:
    try:
        return Format(value.lower())
    except ValueError:
        raise InvalidInput("format is csv, xlsx or jsonl", field="format") from None


def plan(
    session: Session, principal: Principal, kind: ExportKind, pairs: Mapping[str, Sequence[str]]
) -> Export:
    """The export of ``kind`` narrowed by ``pairs``, in the principal's scope."""
    params = Params(pairs)
    export = _PLANNERS[kind](session, principal, params)
    params.done(kind.value)
    return export


def record(
    session: Session,
    principal: Principal,
    export: Export,
    fmt: Format,
    pairs: Mapping[str, Sequence[str]],
) -> None:
    """Audit an export as it starts (an aborted download was still a read); an export of
    contacts is also a read of those contacts, named like every other one."""
    audit.record(
        session,
        principal,
        "export",
        entity=export.kind,
        format=fmt.value,
        filter={k: list(v) for k, v in pairs.items()},
    )
    if export.contact_ids is not None:
        audit.record_reads(session, principal, "contact", session.scalars(export.contact_ids))
