"""Merging an approved dataset's staged rows into the CRM, and reverting a merge.

A merge is one transaction: it flips the dataset ``merging -> merged`` together with
every upsert, so a crash leaves either all of it or none. Entities are matched by their
natural keys (API-10 for wells, agency + permit number, well + month for production;
organizations by operator id, remembered decisions, then name), and every field the
merge changes gets a :class:`~ogcrm.db.models.ChangeRecord` (entity, field, before,
after, dataset, source row); an entity it creates gets one creation record, which
stands for the values it was created with. Together they are the provenance of every
stored value, and what revert inverts.

Speed: a million-row dataset is merged batch by batch, each batch read as one frame; new
entities are built with a group-by per kind, given ids reserved in advance and written
with COPY; only entities already stored are compared field by field.

Precedence: a value a person set is never overwritten by an import, and a value set by
a higher-ranked source is never overwritten by a lower-ranked one. What was not applied
is counted (``not_applied``) and listed for review.

Merging the same rows again changes nothing: only differing fields are written.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Text, any_, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ogcrm.auth.principal import Principal
from ogcrm.db.bulk import IdPool, WriteBehind, insert_rows
from ogcrm.db.models import (
    ChangeRecord,
    Dataset,
    DatasetState,
    Organization,
    OrganizationIdentifier,
    Permit,
    ProductionReport,
    RowOutcome,
    Source,
    StagedRow,
    Well,
)
from ogcrm.db.types import utcnow
from ogcrm.jobs.failpoints import failpoint
from ogcrm.pipeline.matching import OrgName, Verdict
from ogcrm.plugins import default_registry
from ogcrm.services import audit
from ogcrm.services.account_events import DEFAULT_FOLLOW_UPS, FollowUpRule, record_merge_events
from ogcrm.services.errors import InvalidInput, NotFound
from ogcrm.services.matching import load_matcher

#: canonical field -> Well attribute
WELL_FIELDS = {
    "api14": "api14",
    "well_name": "name",
    "state": "state",
    "county": "county",
    "county_fips": "county_fips",
    "field_name": "field_name",
    "latitude": "latitude",
    "longitude": "longitude",
    "datum": "datum",
    "well_status": "status",
    "well_type": "well_type",
    "spud_date": "spud_date",
    "completion_date": "completion_date",
}
PERMIT_FIELDS = {
    "permit_type": "permit_type",
    "permit_status": "status",
    "received_date": "received_on",
    "issued_date": "issued_on",
    "expiry_date": "expires_on",
    "total_depth_ft": "total_depth_ft",
    "lease_name": "lease_name",
    "county": "county",
    "state": "state",
}
ORGANIZATION_FIELDS = {
    "operator_street": "street",
    "operator_city": "city",
    "operator_state": "state",
    "operator_zip": "postal_code",
    "operator_phone": "phone",
    "operator_website": "website",
}
PRODUCTS = {"O": "oil_bbl", "G": "gas_mcf", "W": "water_bbl"}
_DATES = {"spud_date", "completion_date", "received_on", "issued_on", "expires_on", "month"}
CREATED = "__created__"
MERGE_BATCH = 20_000
MERGEABLE = (RowOutcome.CLEAN, RowOutcome.FIXED)


def _merged_rows(dataset_id: int) -> tuple[Any, ...]:
    """The staged rows of a dataset that a merge takes in."""
    return (StagedRow.dataset_id == dataset_id, StagedRow.outcome.in_(MERGEABLE))


def _staged_api10() -> Any:
    """A staged row's well key, in SQL."""
    return StagedRow.cleaned["api10"].as_string()


def _staged_permit_number() -> Any:
    """A staged row's permit key, in SQL, as the merge normalizes it (trimmed, upper case)."""
    return func.upper(func.trim(StagedRow.cleaned["permit_number"].as_string()))


@dataclass
class MergeCounts:
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    not_applied: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    changes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": dict(self.created),
            "updated": dict(self.updated),
            "not_applied": dict(self.not_applied),
            "changes": self.changes,
        }


def _value(attr: str, value: Any) -> Any:
    """A staged (JSON) value as the column stores it."""
    if value is None:
        return None
    if attr in _DATES:
        return dt.date.fromisoformat(str(value)[:10])
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


class _NewRow:
    """An organization this merge creates: its id, handed out when first met (later rows
    and the matcher refer to it), and its values, written with the rest of its batch."""

    __slots__ = ("id", "row_number", "values")

    def __init__(self, id_: int, values: dict[str, Any], row_number: int) -> None:
        self.id = id_
        self.values = values
        self.row_number = row_number

    def fill(self, attrs: dict[str, Any]) -> None:
        """Later rows of the same entity fill in what they know."""
        self.values.update((a, v) for a, v in attrs.items() if v is not None)


class _Merger:
    """One dataset's merge: keeps the entities it touched and the precedence facts."""

    def __init__(
        self,
        session: Session,
        dataset: Dataset,
        source: Source,
        writer: WriteBehind,
        side: Connection | None = None,
    ) -> None:
        self.session = session
        self.writer = writer
        self.dataset = dataset
        self.source = source
        self.counts = MergeCounts()
        self.matcher = load_matcher(session)
        self.precedence = {
            ds_id: prec
            for ds_id, prec in session.execute(
                select(Dataset.id, Source.precedence).join(Source, Source.id == Dataset.source_id)
            )
        }
        self._orgs: dict[tuple[str, str | None], int] = {}
        self._new_orgs: dict[int, _NewRow] = {}
        self._new_identifiers: list[tuple[Any, ...]] = []
        self._identifiers: dict[int, set[tuple[str, str]]] = {}
        self._ids = {
            model: IdPool(session, model.__table__, draw_on=side)
            for model in (Organization, Well, Permit, ProductionReport)
        }
        self._changes: list[tuple[Any, ...]] = []
        agency = source.agency.lower()
        # natural keys of this dataset already stored, found by one join before the first
        # batch (on a first import: none); the merge adds those it creates. A batch
        # loads only its keys in here, not all of them one by one.
        self._known: dict[Any, set[Any]] = {
            Well: set(
                session.scalars(
                    select(Well.api10).where(
                        Well.api10.in_(select(_staged_api10()).where(*_merged_rows(dataset.id)))
                    )
                )
            ),
            Permit: set(
                session.scalars(
                    select(Permit.permit_number).where(
                        Permit.agency == agency,
                        Permit.permit_number.in_(
                            select(_staged_permit_number()).where(*_merged_rows(dataset.id))
                        ),
                    )
                )
            ),
        }
        self._now = (
            utcnow()
            if session.get_bind().dialect.name != "sqlite"
            else utcnow().replace(tzinfo=None)
        )
        spec = default_registry().sources.get(source.name)
        self.source_state = spec.state if spec else None

    def _in(self, column: Any, values: Iterable[Any]) -> Any:
        """``column IN values``; on PostgreSQL one array parameter (``= ANY``) instead of
        thousands of placeholders the driver would have to parse."""
        items = list(values)
        if self.session.get_bind().dialect.name == "postgresql":
            return column == any_(bindparam(None, items, type_=ARRAY(column.type)))
        return column.in_(items)

    # ------------------------------------------------------------------ provenance

    def _owners(self, entity: str, ids: Iterable[int]) -> dict[tuple[int, str], Any]:
        """The latest change of each field of these entities: who set the value (a
        field never changed since its entity was created belongs to the creator)."""
        latest: dict[tuple[int, str], Any] = {}
        id_list = list(ids)
        cr = ChangeRecord
        for start in range(0, len(id_list), 5000):
            for rec in self.session.execute(
                select(cr.entity_id, cr.field, cr.dataset_id, cr.user_id)
                .where(
                    ChangeRecord.entity == entity,
                    self._in(ChangeRecord.entity_id, id_list[start : start + 5000]),
                )
                .order_by(ChangeRecord.id)
            ):
                latest[(rec.entity_id, rec.field)] = rec
        return latest

    def _may_overwrite(self, owner: Any) -> bool:
        if owner is None:
            return True
        if owner.user_id is not None and owner.dataset_id is None:
            return False  # a person's edit is never overwritten by an import
        theirs = self.precedence.get(owner.dataset_id or -1, 0)
        return self.source.precedence >= theirs

    def _apply(
        self,
        entity: str,
        row: Any,
        values: dict[str, Any],
        owners: dict[tuple[int, str], Any],
        row_number: int,
    ) -> None:
        """Write the fields that differ, where precedence allows; record each change."""
        changed = False
        for attr, new in values.items():
            if new is None:
                continue  # an empty cell never erases a stored value
            old = getattr(row, attr)
            if old == new:
                continue
            owner = owners.get((row.id, attr)) or owners.get((row.id, CREATED))
            if not self._may_overwrite(owner):
                self.counts.not_applied[entity] += 1
                continue
            setattr(row, attr, new)
            self._record(entity, row.id, attr, old, new, row_number)
            changed = True
        if changed:
            self.counts.updated[entity] += 1

    def _record(self, entity: str, entity_id: int, attr: str, old: Any, new: Any, row: int) -> None:
        """Queue one change record; :meth:`write_changes` appends them in bulk."""
        self._changes.append(
            (
                self.dataset.id,
                entity,
                entity_id,
                attr,
                json.dumps(_jsonable(old)),
                json.dumps(_jsonable(new)),
                row,
                self._now,
            )
        )
        self.counts.changes += 1

    def write_changes(self) -> None:
        """Append the queued change records (COPY on PostgreSQL): a merge writes about
        several per row, far too many for one ORM object each."""
        self.writer.write(
            "change_record",
            (
                "dataset_id",
                "entity",
                "entity_id",
                "field",
                "before",
                "after",
                "row_number",
                "created_at",
            ),
            self._changes,
        )
        self._changes = []

    def _upsert_frame(
        self,
        model: Any,
        keys: pd.Series,
        attrs: pd.DataFrame,
        existing: dict[Any, Any],
        base: Callable[[Any], dict[str, Any]],
    ) -> dict[Any, int]:
        """Upsert one kind of entity for the batch; returns the id of every key.

        ``keys`` holds each row's natural key and ``attrs`` the fields each row gives
        (``None`` where it gives nothing), both indexed by row number; ``existing`` the
        stored entities by key. Stored entities are updated field by field, in file order,
        as precedence allows. New ones are made from all their rows at once (each field
        takes the last value a row gave it) and written together with ``base(key)``.
        """
        entity = model.__tablename__
        ids = {key: row.id for key, row in existing.items()}
        known = keys.map(ids.__contains__).astype(bool)
        if known.any():
            owners = self._owners(entity, {ids[k] for k in keys[known]})
            for n, key, record in zip(
                keys.index[known], keys[known], attrs[known].to_dict("records"), strict=True
            ):
                self._apply(entity, existing[key], record, owners, n)
        fresh = keys[~known]
        if fresh.empty:
            return ids
        codes, uniques = pd.factorize(fresh)
        self._known.get(model, set()).update(uniques)
        last = attrs[~known].groupby(codes, sort=False).last()
        last = last.astype(object).where(last.notna(), None)
        first_rows = fresh.index.to_series().groupby(codes, sort=False).first().tolist()
        new_keys = list(uniques)
        new_ids = self._ids[model].take(len(new_keys))
        bases = [base(key) for key in new_keys]
        columns = [*bases[0], *last.columns]
        values = zip(
            *([b[c] for b in bases] for c in bases[0]),
            *(last[c].tolist() for c in last.columns),
            strict=True,
        )
        self._insert_created(model, new_ids, columns, values, first_rows)
        ids.update(zip(new_keys, new_ids, strict=True))
        return ids

    def _insert_created(
        self,
        model: Any,
        ids: list[int],
        columns: list[str],
        values: Iterable[tuple[Any, ...]],
        first_rows: list[int],
    ) -> None:
        """Write new rows (COPY on PostgreSQL), each with a creation record: the
        provenance of all the fields it was created with. (Those values need no record of
        their own: a later change keeps them as ``before``.)"""
        insert_rows(
            self.session,
            model.__table__,
            ["id", *columns],
            ((id_, *row) for id_, row in zip(ids, values, strict=True)),
            writer=self.writer,
        )
        entity, now, dataset_id = model.__tablename__, self._now, self.dataset.id
        self._changes.extend(
            (dataset_id, entity, id_, CREATED, "null", "true", n, now)
            for id_, n in zip(ids, first_rows, strict=True)
        )
        self.counts.changes += len(ids)
        self.counts.created[entity] += len(ids)

    def _write_created(self, model: Any, rows: Iterable[_NewRow]) -> None:
        """Write new rows whose ids were handed out as they were met (organizations)."""
        rows = list(rows)
        if not rows:
            return
        columns = list(dict.fromkeys(c for row in rows for c in row.values))
        self._insert_created(
            model,
            [row.id for row in rows],
            columns,
            (tuple(map(row.values.get, columns)) for row in rows),
            [row.row_number for row in rows],
        )

    # ------------------------------------------------------------------ entities

    def organization(self, values: dict[str, Any], row_number: int) -> int | None:
        name = values.get("operator_name")
        number = values.get("operator_number")
        if not name and not number:
            return None
        number_key, key = _operator(number, values.get("operator_name_key"), name)
        ident = (self.source.agency.lower(), number_key) if number_key else None
        memo = (key or "", ident[1] if ident else None)
        if memo in self._orgs:
            return self._orgs[memo]
        probe = OrgName(
            key or f"#{number}",
            name or "",
            values.get("operator_name_form"),
            frozenset([ident]) if ident else frozenset(),
        )
        match = self.matcher.match(probe)
        org: Organization | _NewRow
        if (
            match.verdict is Verdict.SAME
            and match.other is not None
            and match.other.organization_id
        ):
            org_id = match.other.organization_id
            org = self._new_orgs.get(org_id) or self.session.get(Organization, org_id)
        else:
            org = _NewRow(
                self._ids[Organization].take()[0],
                {
                    "name": name or f"Operator {number}",
                    "normalized_name": key or f"#{number}",
                    "dataset_id": self.dataset.id,
                },
                row_number,
            )
            self._new_orgs[org.id] = org
            self._identifiers[org.id] = set()
            if match.verdict is Verdict.CANDIDATE:
                self.counts.created["organization_candidates"] += 1
        if ident and ident not in self._known_identifiers(org.id):
            self._identifiers[org.id].add(ident)
            self._new_identifiers.append((org.id, *ident, self.dataset.id))
            self._record(
                "organization", org.id, f"identifier:{ident[0]}", None, ident[1], row_number
            )
        attrs = {a: values.get(f) for f, a in ORGANIZATION_FIELDS.items() if f in values}
        if isinstance(org, _NewRow):
            org.fill(attrs)
            normalized, display = org.values["normalized_name"], org.values["name"]
        else:
            if attrs:
                owners = self._owners("organization", [org.id])
                self._apply("organization", org, attrs, owners, row_number)
            normalized, display = org.normalized_name, org.name
        self.matcher.add(OrgName(normalized, display, probe.form, probe.ids, org.id))
        self._orgs[memo] = org.id
        return org.id

    def _known_identifiers(self, org_id: int) -> set[tuple[str, str]]:
        """An organization's (agency, identifier) pairs, read once per merge."""
        if org_id not in self._identifiers:
            query = select(OrganizationIdentifier.agency, OrganizationIdentifier.identifier)
            self._identifiers[org_id] = {
                (agency, identifier)
                for agency, identifier in self.session.execute(
                    query.where(OrganizationIdentifier.organization_id == org_id)
                )
            }
        return self._identifiers[org_id]

    def merge_batch(self, values_of: dict[int, dict[str, Any]]) -> None:
        """Merge one batch of staged rows (row number -> cleaned values)."""
        org_ids = {n: self.organization(v, n) for n, v in values_of.items()}
        # new organizations first: the batch's wells, permits and reports point at them
        self._write_created(Organization, self._new_orgs.values())
        insert_rows(
            self.session,
            OrganizationIdentifier.__table__,
            ("organization_id", "agency", "identifier", "dataset_id"),
            self._new_identifiers,
            writer=self.writer,
        )
        self._new_orgs, self._new_identifiers = {}, []
        frame = _frame(values_of)
        operators = pd.Series(org_ids, dtype=object)
        wells = self._wells(frame, operators)
        self._permits(frame, operators, wells)
        self._production(values_of, org_ids, wells)

    def _attrs(self, rows: pd.DataFrame, fields: dict[str, str]) -> pd.DataFrame:
        """The model attributes the rows give (dates as dates), with the source's state
        where the file has no state column."""
        attrs = pd.DataFrame(
            {
                attr: rows[f].map(lambda v, a=attr: _value(a, v)) if attr in _DATES else rows[f]
                for f, attr in fields.items()
                if f in rows.columns
            },
            index=rows.index,
            dtype=object,
        )
        if "state" not in attrs.columns and self.source_state:
            attrs["state"] = self.source_state
        return attrs

    def _load_stored(self, key: Any, keys: set[Any], *where: Any) -> dict[Any, Any]:
        """The stored entities whose natural ``key`` is one of ``keys``, by key; no
        query when there are none (a first import's batches ask for none)."""
        if not keys:
            return {}
        model = key.class_
        return {
            getattr(entity, key.key): entity
            for entity in self.session.scalars(select(model).where(*where, self._in(key, keys)))
        }

    def _wells(self, frame: pd.DataFrame, operators: pd.Series) -> dict[str, int]:
        if "api10" not in frame.columns:
            return {}
        rows = frame[frame["api10"].map(bool)]
        if rows.empty:
            return {}
        keys = rows["api10"]
        existing = self._load_stored(Well.api10, set(keys) & self._known[Well])
        attrs = self._attrs(rows, WELL_FIELDS)
        attrs["operator_id"] = operators.reindex(rows.index)
        return self._upsert_frame(
            Well,
            keys,
            attrs,
            existing,
            lambda api10: {"api10": api10, "dataset_id": self.dataset.id},
        )

    def _permits(self, frame: pd.DataFrame, operators: pd.Series, wells: dict[str, int]) -> None:
        if "permit_number" not in frame.columns:
            return
        rows = frame[frame["permit_number"].map(bool)]
        if rows.empty:
            return
        agency = self.source.agency.lower()
        raw = rows["permit_number"]
        keys = raw.map(lambda v: str(v).strip().upper())
        # the join that filled the known keys normalized them in SQL, which agrees with
        # Python's strip().upper() only on plain ASCII text: any other key is looked up
        stored = {
            key
            for key, value in zip(keys, raw, strict=True)
            if key in self._known[Permit] or not _plain(value)
        }
        existing = self._load_stored(Permit.permit_number, stored, Permit.agency == agency)
        attrs = self._attrs(rows, PERMIT_FIELDS)
        attrs["operator_id"] = operators.reindex(rows.index)
        api10 = rows["api10"] if "api10" in rows.columns else pd.Series(None, index=rows.index)
        attrs["well_id"] = api10.map(lambda a: wells.get(a or ""))
        self._upsert_frame(
            Permit,
            keys,
            attrs,
            existing,
            lambda number: {
                "agency": agency,
                "permit_number": number,
                "dataset_id": self.dataset.id,
            },
        )

    def _production(
        self,
        values_of: dict[int, dict[str, Any]],
        org_ids: dict[int, int | None],
        wells: dict[str, int],
    ) -> None:
        # rows of one (well, month) are folded together: a report per product (NM)
        # becomes one report with oil, gas and water
        merged: dict[tuple[int, dt.date], tuple[int, dict[str, Any]]] = {}
        for n, v in values_of.items():
            month = v.get("production_month")
            well_id = wells.get(v.get("api10") or "")
            if not month or well_id is None:
                continue
            attrs: dict[str, Any] = {}
            for f in ("oil_bbl", "gas_mcf", "water_bbl", "days_produced"):
                if v.get(f) is not None:
                    attrs[f] = int(v[f]) if f == "days_produced" else v[f]
            product = PRODUCTS.get(str(v.get("product_code") or "").strip().upper())
            if product and v.get("product_volume") is not None:
                attrs[product] = v["product_volume"]
            attrs["operator_id"] = org_ids.get(n)
            key = (well_id, _value("month", month))
            previous = merged.get(key, (n, {}))[1]
            merged[key] = (n, {**previous, **{k: x for k, x in attrs.items() if x is not None}})
        if not merged:
            return
        existing = {
            (r.well_id, r.month): r
            for r in self.session.scalars(
                select(ProductionReport).where(
                    self._in(ProductionReport.well_id, {k[0] for k in merged})
                )
            )
        }
        index = [n for n, _ in merged.values()]
        agency = self.source.agency.lower()
        self._upsert_frame(
            ProductionReport,
            pd.Series(list(merged), index=index, dtype=object),
            _frame(dict(zip(index, (attrs for _, attrs in merged.values()), strict=True))),
            existing,
            lambda key: {
                "well_id": key[0],
                "month": key[1],
                "agency": agency,
                "dataset_id": self.dataset.id,
            },
        )


def _plain(value: Any) -> bool:
    """A key that SQL's ``upper(trim(...))`` normalizes exactly as Python does."""
    return isinstance(value, str) and value.isascii() and value == value.strip()


def _frame(values_of: dict[int, dict[str, Any]]) -> pd.DataFrame:
    """Rows of values as a frame indexed by row number, every column of Python objects
    (``None`` where a row has no value; integers stay integers)."""
    frame = pd.DataFrame(list(values_of.values()), index=list(values_of), dtype=object)
    return frame.where(frame.notna(), None)


def _transition(
    session: Session, dataset_id: int, before: DatasetState, after: DatasetState, **values: Any
) -> bool:
    """Move a dataset between states only from the expected one: a duplicate delivery
    or a concurrent second request changes nothing."""
    return bool(
        session.execute(
            update(Dataset)
            .where(Dataset.id == dataset_id, Dataset.state == before)
            .values(state=after, **values)
        ).rowcount
    )


def approve_and_merge(
    session: Session,
    principal: Principal,
    dataset_id: int,
    *,
    follow_ups: tuple[FollowUpRule, ...] = DEFAULT_FOLLOW_UPS,
) -> dict[str, Any]:
    """Merge an ``awaiting_review`` dataset in the caller's one transaction, then record
    what it meant for each account (timeline events, follow-up tasks)."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"dataset {dataset_id} not found")
    if not _transition(
        session,
        dataset_id,
        DatasetState.AWAITING_REVIEW,
        DatasetState.MERGING,
        reviewed_by_id=principal.user_id,
        reviewed_at=utcnow(),
    ):
        raise InvalidInput(f"dataset {dataset_id} is {dataset.state}, not awaiting review")
    session.refresh(dataset)
    started = time.perf_counter()
    source = session.get(Source, dataset.source_id)
    # on PostgreSQL the COPYs of one batch run on a writer thread while the next batch
    # is read (on a second connection) and prepared: the server's work and ours overlap
    with WriteBehind(session) as writer, _side_connection(session) as side:
        merger = _Merger(session, dataset, source, writer, side)
        for rows in _mergeable_pages(side or session, dataset_id):
            merger.merge_batch(rows)
            session.flush()
            merger.write_changes()
            failpoint("merge.after_batch")
    counts = merger.counts.as_dict()
    counts["events"] = record_merge_events(session, dataset_id, rules=follow_ups)
    _transition(
        session,
        dataset_id,
        DatasetState.MERGING,
        DatasetState.MERGED,
        merged_at=utcnow(),
        counts=counts,
        timings={**(dataset.timings or {}), "merge": round(time.perf_counter() - started, 3)},
    )
    audit.record(
        session, principal, "dataset.merge", entity="dataset", entity_id=dataset_id, **counts
    )
    return counts


@contextmanager
def _side_connection(session: Session) -> Iterator[Connection | None]:
    """A second PostgreSQL connection for what a merge may read while its writes are
    queued: staged rows (committed before the merge began) and ids drawn from
    sequences. ``None`` on SQLite, where writes are not queued."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        yield None
        return
    with bind.connect() as side:
        yield side


def _mergeable_pages(
    reader: Session | Connection, dataset_id: int
) -> Iterator[dict[int, dict[str, Any]]]:
    """A dataset's mergeable staged rows, a batch at a time: row number -> values."""
    last = 0
    while True:
        # walks the (dataset_id, row_number) key in order; filtering on outcome in SQL
        # would make PostgreSQL sort what remains of the dataset for every batch
        page = reader.execute(
            select(StagedRow.row_number, StagedRow.outcome, cast(StagedRow.cleaned, Text))
            .where(StagedRow.dataset_id == dataset_id, StagedRow.row_number > last)
            .order_by(StagedRow.row_number)
            .limit(MERGE_BATCH)
        ).all()
        if not page:
            return
        last = page[-1].row_number
        mergeable_rows = [r for r in page if r.outcome in MERGEABLE]
        if mergeable_rows:
            # one parse of the page's JSON, not one per row
            cleaned = json.loads("[" + ",".join(r[2] for r in mergeable_rows) + "]")
            yield dict(zip((r.row_number for r in mergeable_rows), cleaned, strict=True))


def merge_preview(session: Session, dataset_id: int) -> dict[str, dict[str, int]]:
    """What approving a dataset would do, by natural key: how many organizations, wells
    and permits are new and how many already exist (so would be updated where they
    differ). Organizations are recognised here by agency operator number or exact
    normalized name; the merge's fuzzier matching can only turn some ``new`` into
    ``existing``."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"dataset {dataset_id} not found")
    agency = session.scalar(select(Source.agency).where(Source.id == dataset.source_id))
    agency = (agency or "").lower()
    mine = _merged_rows(dataset_id)
    cleaned = StagedRow.cleaned

    def split(key: Any, target: Any, *where: Any) -> dict[str, int]:
        keys = select(key.label("k")).where(*mine, key.is_not(None)).distinct().subquery()
        total = session.scalar(select(func.count()).select_from(keys)) or 0
        joined = keys.join(target.table, keys.c.k == target)
        known = (
            session.scalar(
                select(func.count(func.distinct(keys.c.k))).select_from(joined).where(*where)
            )
            or 0
        )
        return {"new": total - known, "existing": known}

    out = {
        "well": split(_staged_api10(), Well.api10),
        "permit": split(_staged_permit_number(), Permit.permit_number, Permit.agency == agency),
    }
    operators = session.execute(
        select(
            cleaned["operator_number"].as_string(),
            cleaned["operator_name_key"].as_string(),
            cleaned["operator_name"].as_string(),
        )
        .where(*mine)
        .distinct()
    ).all()
    identities = [_operator(*row) for row in operators if row[0] or row[2]]
    oi = OrganizationIdentifier
    found_ids = _stored(
        session, oi.identifier, {i for i, _ in identities if i}, oi.agency == agency
    )
    found_names = _stored(session, Organization.normalized_name, {k for _, k in identities if k})
    seen: dict[str, bool] = {}
    for ident, normalized in identities:
        who = ident or normalized or ""
        seen[who] = seen.get(who, False) or ident in found_ids or normalized in found_names
    existing = sum(seen.values())
    out["organization"] = {"new": len(seen) - existing, "existing": existing}
    return out


def _operator(number: Any, name_key: Any, name: Any) -> tuple[str | None, str | None]:
    """An operator as a row names it: (agency operator number, normalized name)."""
    ident = str(number).strip().upper() if number else None
    return ident, name_key or (str(name).upper() if name else None)


def _stored(session: Session, column: Any, values: set[Any], *where: Any) -> set[Any]:
    """Which of ``values`` are stored in ``column`` (asked 5,000 at a time)."""
    wanted = sorted(values)
    found: set[Any] = set()
    for start in range(0, len(wanted), 5000):
        found.update(
            session.scalars(select(column).where(*where, column.in_(wanted[start : start + 5000])))
        )
    return found


def touched_organizations(session: Session, dataset_id: int) -> list[int]:
    """Organizations a merged dataset changed, or whose wells, permits or production it
    changed: the ones to rescore."""
    cr = ChangeRecord.__table__
    mine = cr.c.dataset_id == dataset_id
    ids: set[int] = set(
        session.scalars(
            select(cr.c.entity_id).where(mine, cr.c.entity == "organization").distinct()
        )
    )
    for model in (Well, Permit, ProductionReport):
        table = model.__table__
        changed = select(cr.c.entity_id).where(mine, cr.c.entity == table.name)
        ids.update(
            session.scalars(
                select(table.c.operator_id)
                .where(table.c.id.in_(changed), table.c.operator_id.is_not(None))
                .distinct()
            )
        )
    return sorted(ids)


def reject(session: Session, principal: Principal, dataset_id: int, *, reason: str = "") -> None:
    if not _transition(
        session,
        dataset_id,
        DatasetState.AWAITING_REVIEW,
        DatasetState.REJECTED,
        reviewed_by_id=principal.user_id,
        reviewed_at=utcnow(),
        error=reason or None,
    ):
        raise InvalidInput(f"dataset {dataset_id} is not awaiting review")
    audit.record(
        session, principal, "dataset.reject", entity="dataset", entity_id=dataset_id, reason=reason
    )


_ENTITY_MODELS: dict[str, Any] = {
    "organization": Organization,
    "well": Well,
    "permit": Permit,
    "production_report": ProductionReport,
}


def _referenced(session: Session, entity: str, entity_id: int) -> bool:
    """Whether rows this dataset did not create still point at an entity it created
    (they are removed first, newest first, so whatever remains is someone else's)."""
    from ogcrm.db.models import Contact, Interaction, Opportunity, Task

    checks: list[Any] = []
    if entity == "organization":
        checks = [
            select(Contact.id).where(Contact.organization_id == entity_id),
            select(Interaction.id).where(Interaction.organization_id == entity_id),
            select(Task.id).where(Task.organization_id == entity_id),
            select(Opportunity.id).where(Opportunity.organization_id == entity_id),
            select(Well.id).where(Well.operator_id == entity_id),
            select(Permit.id).where(Permit.operator_id == entity_id),
            select(ProductionReport.id).where(ProductionReport.operator_id == entity_id),
        ]
    elif entity == "well":
        checks = [
            select(Permit.id).where(Permit.well_id == entity_id),
            select(ProductionReport.id).where(ProductionReport.well_id == entity_id),
        ]
    return any(session.scalar(q.limit(1)) is not None for q in checks)


def revert(session: Session, principal: Principal, dataset_id: int) -> dict[str, Any]:
    """Undo a merged dataset's changes, newest first, in one transaction.

    A field changed since (by a later dataset or a person) is a conflict: left as it is
    and reported. An entity the dataset created is removed only when nothing else has
    changed it since. Change records are kept; the revert adds its own.
    """
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"dataset {dataset_id} not found")
    if dataset.state != DatasetState.MERGED:
        raise InvalidInput(f"dataset {dataset_id} is {dataset.state}, not merged")
    records = list(
        session.scalars(
            select(ChangeRecord)
            .where(ChangeRecord.dataset_id == dataset_id)
            .order_by(ChangeRecord.id.desc())
        )
    )
    later: dict[tuple[str, int, str], int] = {}
    touched: dict[tuple[str, int], int] = {}
    if records:
        first_id = min(r.id for r in records)
        for rec in session.scalars(
            select(ChangeRecord).where(
                ChangeRecord.id > first_id, ChangeRecord.dataset_id.is_distinct_from(dataset_id)
            )
        ):
            later[(rec.entity, rec.entity_id, rec.field)] = rec.id
            touched[(rec.entity, rec.entity_id)] = rec.id
    created = {(r.entity, r.entity_id) for r in records if r.field == CREATED}
    conflicts: list[dict[str, Any]] = []
    reverted = 0
    removed: dict[str, int] = defaultdict(int)
    for rec in records:
        model = _ENTITY_MODELS.get(rec.entity)
        if model is None:
            continue
        if rec.field == CREATED:
            if (rec.entity, rec.entity_id) in touched or _referenced(
                session, rec.entity, rec.entity_id
            ):
                conflicts.append(
                    {
                        "entity": rec.entity,
                        "id": rec.entity_id,
                        "field": CREATED,
                        "reason": "changed since by another dataset or a person",
                    }
                )
                continue
            row = session.get(model, rec.entity_id)
            if row is not None:
                session.delete(row)
                session.flush()
                removed[rec.entity] += 1
            continue
        if rec.field.startswith("identifier:"):
            agency = rec.field.split(":", 1)[1]
            for ident in session.scalars(
                select(OrganizationIdentifier).where(
                    OrganizationIdentifier.organization_id == rec.entity_id,
                    OrganizationIdentifier.agency == agency,
                    OrganizationIdentifier.identifier == rec.after,
                )
            ):
                session.delete(ident)
            continue
        if (rec.entity, rec.entity_id) in created:
            continue  # removed with the entity (or kept, as a reported conflict)
        if (rec.entity, rec.entity_id, rec.field) in later:
            conflicts.append(
                {
                    "entity": rec.entity,
                    "id": rec.entity_id,
                    "field": rec.field,
                    "reason": "changed since by another dataset or a person",
                }
            )
            continue
        row = session.get(model, rec.entity_id)
        if row is None:
            continue
        setattr(row, rec.field, _value(rec.field, rec.before))
        session.add(
            ChangeRecord(
                dataset_id=dataset_id,
                user_id=principal.user_id,
                entity=rec.entity,
                entity_id=rec.entity_id,
                field=rec.field,
                before=rec.after,
                after=rec.before,
                row_number=rec.row_number,
            )
        )
        reverted += 1
    session.flush()
    _transition(
        session, dataset_id, DatasetState.MERGED, DatasetState.REVERTED, reverted_at=utcnow()
    )
    result = {
        "fields_reverted": reverted,
        "entities_removed": dict(removed),
        "conflicts": conflicts,
    }
    audit.record(
        session,
        principal,
        "dataset.revert",
        entity="dataset",
        entity_id=dataset_id,
        fields_reverted=reverted,
        conflicts=len(conflicts),
    )
    return result
