"""The merge engine: one dataset's staged rows upserted into the CRM, batch by batch,
with field-level provenance and source precedence (see :mod:`ogcrm.datasets.merge`)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ogcrm.datasets.matching import load_matcher
from ogcrm.datasets.merge.keys import (
    CREATED,
    DATES,
    ORGANIZATION_FIELDS,
    PERMIT_FIELDS,
    PRODUCTS,
    WELL_FIELDS,
    MergeCounts,
    NewRow,
    column_value,
    jsonable,
    merged_rows,
    operator_identity,
    plain_key,
    rows_frame,
    staged_api10,
    staged_permit_number,
)
from ogcrm.db.bulk import IdPool, WriteBehind, insert_rows
from ogcrm.db.models import (
    ChangeRecord,
    Dataset,
    Organization,
    OrganizationIdentifier,
    Permit,
    ProductionReport,
    Source,
    Well,
)
from ogcrm.db.types import in_values, utcnow
from ogcrm.pipeline.matching import OrgName, Verdict

#: the timeline event a created entity of a kind counts toward
_NEW = {"permit": "new_permit", "well": "new_well"}


class Merger:
    """One dataset's merge: keeps the entities it touched and the precedence facts."""

    def __init__(
        self,
        session: Session,
        dataset: Dataset,
        source: Source,
        writer: WriteBehind,
        side: Connection | None = None,
        *,
        source_state: str | None = None,
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
        self._new_orgs: dict[int, NewRow] = {}
        self._new_identifiers: list[tuple[Any, ...]] = []
        self._identifiers: dict[int, set[tuple[str, str]]] = {}
        self._ids = {
            model: IdPool(session, model.__table__, draw_on=side)
            for model in (Organization, Well, Permit, ProductionReport)
        }
        self._changes: list[tuple[Any, ...]] = []
        #: wells and permits this merge created, by natural key, and the rows that name
        #: one of them again in a later batch: those rows' changes wait for the end of
        #: the merge (see :meth:`merge_deferred`)
        self._created: dict[Any, dict[Any, int]] = {Well: {}, Permit: {}}
        self._deferred: dict[Any, list[int]] = {Well: [], Permit: []}
        self._deferring = True
        #: wells and permits created, by the operator each has now (timeline events)
        self.created_by_operator: Counter[tuple[int, str]] = Counter()
        agency = source.agency.lower()
        # natural keys of this dataset already stored, found by one join before the first
        # batch (on a first import: none). A batch loads only its keys in here, not all
        # of them one by one.
        self._known: dict[Any, set[Any]] = {
            Well: set(
                session.scalars(
                    select(Well.api10).where(
                        Well.api10.in_(select(staged_api10()).where(*merged_rows(dataset.id)))
                    )
                )
            ),
            Permit: set(
                session.scalars(
                    select(Permit.permit_number).where(
                        Permit.agency == agency,
                        Permit.permit_number.in_(
                            select(staged_permit_number()).where(*merged_rows(dataset.id))
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
        #: the state a file without a state column is from (its source's)
        self.source_state = source_state

    def _in(self, column: Any, values: Iterable[Any]) -> Any:
        """``column IN values``; on PostgreSQL one array parameter (``= ANY``) instead of
        thousands of placeholders the driver would have to parse."""
        return in_values(self.session, column, values)

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
            if attr == "operator_id" and entity in _NEW and row.dataset_id == self.dataset.id:
                # one this merge created changes hands: its creation counts for the new one
                if old is not None:
                    self.created_by_operator[(old, _NEW[entity])] -= 1
                self.created_by_operator[(new, _NEW[entity])] += 1
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
                json.dumps(jsonable(old)),
                json.dumps(jsonable(new)),
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
        base: Callable[[list[Any]], dict[str, Any]],
    ) -> dict[Any, int]:
        """Upsert one kind of entity for the batch; returns the id of every key.

        ``keys`` holds each row's natural key and ``attrs`` the fields each row gives
        (``None`` where it gives nothing), both indexed by row number; ``existing`` the
        stored entities by key. Stored entities are updated field by field, in file order,
        as precedence allows. New ones are made from all their rows at once (each field
        takes the last value a row gave it) and written together with ``base(keys)``:
        the columns their keys make, each a list (one value per key) or one value for all.

        A row naming a well or permit an earlier batch created is not applied now but
        deferred (its id is known, so the batch's other rows can point at it): looking
        the entity up would wait for the writer to send everything queued, and leave it
        idle while this batch is prepared. :meth:`merge_deferred` applies those rows, in
        file order, once the last batch is written.
        """
        entity = model.__tablename__
        ids = {key: row.id for key, row in existing.items()}
        known = keys.map(ids.__contains__).astype(bool)
        created = self._created.get(model)
        later = pd.Series(False, index=keys.index)
        if created is not None and self._deferring:
            later = keys.map(created.__contains__).astype(bool) & ~known
            if later.any():
                self._deferred[model].extend(keys.index[later].tolist())
                ids.update((key, created[key]) for key in keys[later])
        if known.any():
            owners = self._owners(entity, {ids[k] for k in keys[known]})
            for n, key, record in zip(
                keys.index[known], keys[known], attrs[known].to_dict("records"), strict=True
            ):
                self._apply(entity, existing[key], record, owners, n)
        fresh = keys[~(known | later)]
        if fresh.empty:
            return ids
        codes, uniques = pd.factorize(fresh)
        last = attrs[~(known | later)].groupby(codes, sort=False).last()
        last = last.astype(object).where(last.notna(), None)
        first_rows = fresh.index.to_series().groupby(codes, sort=False).first().tolist()
        new_keys = list(uniques)
        new_ids = self._ids[model].take(len(new_keys))
        made = base(new_keys)
        columns = [*made, *last.columns]
        values = zip(
            new_ids,
            *(v if isinstance(v, list) else repeat(v) for v in made.values()),
            *(last[c].tolist() for c in last.columns),
            strict=False,  # a column of one value for all is an endless repeat
        )
        self._insert_created(model, new_ids, columns, values, first_rows)
        if entity in _NEW and "operator_id" in last.columns:
            self.created_by_operator.update(
                (operator, _NEW[entity]) for operator in last["operator_id"] if operator
            )
        ids.update(zip(new_keys, new_ids, strict=True))
        if created is not None:
            created.update(zip(new_keys, new_ids, strict=True))
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
        their own: a later change keeps them as ``before``.) ``values`` are whole rows,
        the id first."""
        insert_rows(self.session, model.__table__, ["id", *columns], values, writer=self.writer)
        entity, now, dataset_id = model.__tablename__, self._now, self.dataset.id
        self._changes.extend(
            (dataset_id, entity, id_, CREATED, "null", "true", n, now)
            for id_, n in zip(ids, first_rows, strict=True)
        )
        self.counts.changes += len(ids)
        self.counts.created[entity] += len(ids)

    def _write_created(self, model: Any, rows: Iterable[NewRow]) -> None:
        """Write new rows whose ids were handed out as they were met (organizations)."""
        rows = list(rows)
        if not rows:
            return
        columns = list(dict.fromkeys(c for row in rows for c in row.values))
        self._insert_created(
            model,
            [row.id for row in rows],
            columns,
            ((row.id, *map(row.values.get, columns)) for row in rows),
            [row.row_number for row in rows],
        )

    # ------------------------------------------------------------------ entities

    def organization(self, values: dict[str, Any], row_number: int) -> int | None:
        name = values.get("operator_name")
        number = values.get("operator_number")
        if not name and not number:
            return None
        number_key, key = operator_identity(number, values.get("operator_name_key"), name)
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
        org: Organization | NewRow
        if (
            match.verdict is Verdict.SAME
            and match.other is not None
            and match.other.organization_id
        ):
            org_id = match.other.organization_id
            org = self._new_orgs.get(org_id) or self.session.get(Organization, org_id)
        else:
            org = NewRow(
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
        if isinstance(org, NewRow):
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
        frame = rows_frame(values_of)
        operators = pd.Series(org_ids, dtype=object)
        wells = self._wells(frame, operators)
        self._permits(frame, operators, wells)
        self._production(values_of, org_ids, wells)

    def deferred_rows(self) -> list[int]:
        """The row numbers :meth:`merge_deferred` is to be given, in file order."""
        return sorted({*self._deferred[Well], *self._deferred[Permit]})

    def merge_deferred(self, values_of: dict[int, dict[str, Any]]) -> None:
        """Apply the deferred rows (row number -> cleaned values; any part of
        :meth:`deferred_rows`, in file order): only the entity each was deferred for,
        now stored and looked up like any stored entity.

        Their operators were met in their own batch, so :meth:`organization` answers
        them from memory."""
        self._deferring = False
        org_ids = {n: self.organization(v, n) for n, v in values_of.items()}
        frame = rows_frame(values_of)
        operators = pd.Series(org_ids, dtype=object)
        for model in (Well, Permit):
            rows = frame.loc[frame.index.isin(self._deferred[model])]
            if rows.empty:
                continue
            if model is Well:
                self._wells(rows, operators)
            else:
                api10 = rows["api10"] if "api10" in rows.columns else pd.Series(dtype=object)
                self._permits(rows, operators, self._well_ids({a for a in api10 if a}))

    def _well_ids(self, api10s: set[str]) -> dict[str, int]:
        """The ids of these stored wells (those this merge created are known)."""
        created = self._created[Well]
        ids = {a: created[a] for a in api10s if a in created}
        rest = (api10s - ids.keys()) & self._known[Well]
        if rest:
            query = select(Well.api10, Well.id).where(self._in(Well.api10, rest))
            ids.update(self.session.execute(query).tuples())
        return ids

    def _attrs(self, rows: pd.DataFrame, fields: dict[str, str]) -> pd.DataFrame:
        """The model attributes the rows give (dates as dates), with the source's state
        where the file has no state column."""
        attrs = pd.DataFrame(
            {
                attr: rows[f].map(lambda v, a=attr: column_value(a, v))
                if attr in DATES
                else rows[f]
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
        # while deferring, a batch looks up only wells stored before the merge; after,
        # the deferred rows' wells, this merge's too
        stored = set(keys) & self._known[Well] if self._deferring else set(keys)
        existing = self._load_stored(Well.api10, stored)
        attrs = self._attrs(rows, WELL_FIELDS)
        attrs["operator_id"] = operators.reindex(rows.index)
        return self._upsert_frame(
            Well,
            keys,
            attrs,
            existing,
            lambda api10s: {"api10": api10s, "dataset_id": self.dataset.id},
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
            if key in self._known[Permit] or not plain_key(value) or not self._deferring
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
            lambda numbers: {
                "agency": agency,
                "permit_number": numbers,
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
            key = (well_id, column_value("month", month))
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
            rows_frame(dict(zip(index, (attrs for _, attrs in merged.values()), strict=True))),
            existing,
            lambda keys: {
                "well_id": [well_id for well_id, _ in keys],
                "month": [month for _, month in keys],
                "agency": agency,
                "dataset_id": self.dataset.id,
            },
        )
