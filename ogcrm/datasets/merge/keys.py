"""What the merge matches on and writes: the canonical fields of each entity kind, the
natural keys in SQL, and the small value types of a merge."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ogcrm.db.models import (
    RowOutcome,
    StagedRow,
)

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
DATES = {"spud_date", "completion_date", "received_on", "issued_on", "expires_on", "month"}
CREATED = "__created__"
MERGE_BATCH = 20_000
MERGEABLE = (RowOutcome.CLEAN, RowOutcome.FIXED)


def merged_rows(dataset_id: int) -> tuple[Any, ...]:
    """The staged rows of a dataset that a merge takes in."""
    return (StagedRow.dataset_id == dataset_id, StagedRow.outcome.in_(MERGEABLE))


def staged_api10() -> Any:
    """A staged row's well key, in SQL."""
    return StagedRow.cleaned["api10"].as_string()


def staged_permit_number() -> Any:
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


def column_value(attr: str, value: Any) -> Any:
    """A staged (JSON) value as the column stores it."""
    if value is None:
        return None
    if attr in DATES:
        return dt.date.fromisoformat(str(value)[:10])
    return value


def jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


class NewRow:
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


def plain_key(value: Any) -> bool:
    """A key that SQL's ``upper(trim(...))`` normalizes exactly as Python does."""
    return isinstance(value, str) and value.isascii() and value == value.strip()


def rows_frame(values_of: dict[int, dict[str, Any]]) -> pd.DataFrame:
    """Rows of values as a frame indexed by row number, every column of Python objects
    (``None`` where a row has no value; integers stay integers)."""
    frame = pd.DataFrame(list(values_of.values()), index=list(values_of), dtype=object)
    return frame.where(frame.notna(), None)


def operator_identity(number: Any, name_key: Any, name: Any) -> tuple[str | None, str | None]:
    """An operator as a row names it: (agency operator number, normalized name)."""
    ident = str(number).strip().upper() if number else None
    return ident, name_key or (str(name).upper() if name else None)


def stored_values(session: Session, column: Any, values: set[Any], *where: Any) -> set[Any]:
    """Which of ``values`` are stored in ``column`` (asked 5,000 at a time)."""
    wanted = sorted(values)
    found: set[Any] = set()
    for start in range(0, len(wanted), 5000):
        found.update(
            session.scalars(select(column).where(*where, column.in_(wanted[start : start + 5000])))
        )
    return found
