"""What the sales modules check the same way: typed text, times with a zone, a person
who can be given work, a record's parent, and a guarded state move."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ogcrm.db.models import Contact, User
from ogcrm.db.types import utcnow
from ogcrm.errors import Conflict, InvalidInput
from ogcrm.failpoints import failpoint

MAX_TEXT = 20_000
CENT = Decimal("0.01")


def clean_text(value: str | None, field: str, limit: int, *, required: bool = False) -> str | None:
    """``value`` with its blanks collapsed; refused when longer than ``limit`` (the
    column's width) or, if ``required``, empty."""
    text = " ".join(value.split()) if value else ""
    if required and not text:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field} is longer than {limit:,} characters", field=field)
    return text or None


def long_text(value: str | None, field: str) -> str:
    if value and len(value) > MAX_TEXT:
        raise InvalidInput(f"{field} is longer than {MAX_TEXT:,} characters", field=field)
    return value or ""


def aware(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """A time a person gave, which must say its zone: a naive one means a different
    moment to every server."""
    if value is not None and value.tzinfo is None:
        raise InvalidInput(f"{field} needs a time zone", field=field)
    return value


def active_user(session: Session, user_id: int, field: str) -> int:
    """``user_id`` if it names an active user, else a ValidationError on ``field``."""
    active = session.scalar(select(User.is_active).where(User.id == user_id))
    if not active:
        raise InvalidInput(f"user {user_id} does not exist or is deactivated", field=field)
    return user_id


def contact_of(session: Session, contact_id: int | None, organization_id: int) -> int | None:
    """``contact_id`` if it is one of the organization's contacts."""
    if contact_id is None:
        return None
    owner = session.scalar(select(Contact.organization_id).where(Contact.id == contact_id))
    if owner != organization_id:
        raise InvalidInput("that contact is not one of this organization's", field="contactId")
    return contact_id


def move(
    session: Session,
    row: Any,
    column: Any,
    allowed: Collection[enum.StrEnum],
    verb: str,
    **values: Any,
) -> None:
    """Set ``values`` on ``row`` if its ``column`` is still one of ``allowed``, in one
    conditional UPDATE (then ``row`` is reloaded); otherwise a :class:`Conflict` naming
    the state it is in. Two requests moving the same record at once: one wins, the
    other is told why, whatever each had read before."""
    model, row_id = type(row), row.id
    failpoint("sales.move")  # between what the mover saw and the move (race tests)
    result = session.execute(
        update(model)
        .where(model.id == row_id, column.in_([a.value for a in allowed]))
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.scalar(select(column).where(model.id == row_id))
        state = getattr(current, "value", current)
        raise Conflict(f"{model.__tablename__} {row_id} is {state}: cannot {verb}", state=state)
    session.refresh(row)


#: The largest amount a Numeric(14, 2) column holds.
MAX_AMOUNT = Decimal("999999999999.99")


def money(value: Decimal | None, field: str) -> Decimal | None:
    """An amount or price to the cent, not negative, within what the column holds."""
    if value is None:
        return None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise InvalidInput(f"{field} must be between 0 and {MAX_AMOUNT:,}", field=field)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def currency_code(value: str, field: str = "currency") -> str:
    code = value.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise InvalidInput(f"{value!r} is not a 3-letter currency code", field=field)
    return code
