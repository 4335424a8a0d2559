"""Products and orders. This module owns an order's status:

    draft --confirm--> confirmed --schedule--> scheduled --deliver--> delivered --invoice--> invoiced
    draft | confirmed | scheduled --cancel--> cancelled

Lines are edited only while the order is a draft; each captures the product's unit price
when it is added, so a later price change never rewrites an order. Totals are computed
from the lines in exact decimals (a quantity to the thousandth times a price to the cent,
rounded half up to the cent per line), never stored, so they cannot disagree with them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ogcrm.accounts.worklist import state_code
from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Action, Order, OrderLine, OrderStatus, Product, Well
from ogcrm.errors import InvalidInput
from ogcrm.identifiers import IdentifierError, normalize_api_number
from ogcrm.sales._common import CENT, active_user, clean_text, currency_code, long_text, money, move

_D, _C, _S, _V, _I, _X = (
    OrderStatus.DRAFT,
    OrderStatus.CONFIRMED,
    OrderStatus.SCHEDULED,
    OrderStatus.DELIVERED,
    OrderStatus.INVOICED,
    OrderStatus.CANCELLED,
)
#: action -> (statuses it may start from, status it leads to)
MOVES: dict[str, tuple[frozenset[OrderStatus], OrderStatus]] = {
    "confirm": (frozenset({_D}), _C),
    "schedule": (frozenset({_C}), _S),
    "deliver": (frozenset({_S}), _V),
    "invoice": (frozenset({_V}), _I),
    "cancel": (frozenset({_D, _C, _S}), _X),
}
MAX_QUANTITY = Decimal("99999999999.999")
THOUSANDTH = Decimal("0.001")


# --- products ---------------------------------------------------------------------


def create_product(
    session: Session,
    principal: Principal,
    *,
    sku: str,
    name: str,
    unit_price: Decimal,
    unit: str = "each",
    description: str = "",
) -> Product:
    """A catalog entry; the SKU is unique (written in capitals, blanks removed)."""
    policy.require(principal, "product", Action.WRITE)
    code = "".join(sku.split()).upper()
    if not code or len(code) > 64:
        raise InvalidInput("sku must be 1 to 64 characters", field="sku")
    row = Product(
        sku=code,
        name=clean_text(name, "name", 300, required=True),
        unit=clean_text(unit, "unit", 32, required=True),
        unit_price=money(unit_price, "unitPrice"),
        description=long_text(description, "description"),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise InvalidInput(f"a product with SKU {code} exists", field="sku") from None
    audit.record(session, principal, "product.create", entity="product", entity_id=row.id, sku=code)
    return row


_UNSET: Any = object()


def update_product(
    session: Session,
    principal: Principal,
    product_id: int,
    *,
    name: str | None = _UNSET,
    unit_price: Decimal | None = _UNSET,
    unit: str | None = _UNSET,
    active: bool | None = _UNSET,
) -> Product:
    """Rename, reprice (orders keep the price they captured), retire (``active=False``:
    no new lines; orders that have it are unchanged)."""
    policy.require(principal, "product", Action.WRITE)
    row: Product = policy.get_readable(session, "product", principal, product_id)
    if name is not _UNSET:
        row.name = clean_text(name, "name", 300, required=True) or row.name
    if unit_price is not _UNSET:
        if unit_price is None:
            raise InvalidInput("a product has a price", field="unitPrice")
        row.unit_price = money(unit_price, "unitPrice") or Decimal(0)
    if unit is not _UNSET:
        row.unit = clean_text(unit, "unit", 32, required=True) or row.unit
    if active is not _UNSET:
        row.active = bool(active)
    session.flush()
    audit.record(session, principal, "product.update", entity="product", entity_id=row.id)
    return row


def list_products(
    session: Session, principal: Principal, *, active: bool | None = True
) -> Sequence[Product]:
    stmt = select(Product).order_by(Product.sku)
    if active is not None:
        stmt = stmt.where(Product.active.is_(active))
    return session.scalars(policy.readable(stmt, "product", principal)).all()


# --- orders -----------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """Where an order goes: an address, or a lease and/or a well by API number; county
    and state (taken from the well when it is known and they are not given)."""

    date: dt.date | None = None
    address: str | None = None
    lease: str | None = None
    api_number: str | None = None
    county: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class LineInput:
    product_id: int
    quantity: Decimal


@dataclass(frozen=True)
class OrderFilter:
    owner_id: int | None = None
    organization_id: int | None = None
    statuses: Sequence[OrderStatus] = ()
    delivery_from: dt.date | None = None
    delivery_to: dt.date | None = None


def line_total(line: OrderLine) -> Decimal:
    return (Decimal(line.quantity) * Decimal(line.unit_price)).quantize(CENT, ROUND_HALF_UP)


def order_total(lines: Sequence[OrderLine]) -> Decimal:
    return sum((line_total(line) for line in lines), Decimal("0.00"))


def _quantity(value: Decimal) -> Decimal:
    if not value.is_finite() or value <= 0 or value > MAX_QUANTITY:
        raise InvalidInput("quantity must be more than 0", field="lines.quantity")
    if value != value.quantize(THOUSANDTH):
        raise InvalidInput("quantity has at most 3 decimals", field="lines.quantity")
    return value


def _delivery(session: Session, d: Delivery) -> dict[str, Any]:
    out: dict[str, Any] = {
        "delivery_date": d.date,
        "location": clean_text(d.address, "delivery.address", 2_000),
        "lease": clean_text(d.lease, "delivery.lease", 120),
        "county": clean_text(d.county, "delivery.county", 100),
        "state": state_code(d.state, "delivery.state") if d.state else None,
        "well_id": None,
    }
    if d.api_number:
        try:
            api10 = normalize_api_number(d.api_number).api10
        except IdentifierError as exc:
            raise InvalidInput(str(exc), field="delivery.apiNumber") from None
        well = session.scalar(select(Well).where(Well.api10 == api10))
        if well is None:
            raise InvalidInput(f"no well with API number {api10}", field="delivery.apiNumber")
        out["well_id"] = well.id
        out["county"] = out["county"] or (well.county.upper() if well.county else None)
        out["state"] = out["state"] or well.state
    return out


def _lines(session: Session, lines: Sequence[LineInput]) -> list[OrderLine]:
    """Order lines at today's prices; every product must exist and be active."""
    ids = {line.product_id for line in lines}
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}
    out = []
    for line in lines:
        product = products.get(line.product_id)
        if product is None or not product.active:
            raise InvalidInput(
                f"product {line.product_id} does not exist or is retired", field="lines.productId"
            )
        out.append(
            OrderLine(
                product_id=product.id,
                quantity=_quantity(line.quantity),
                unit_price=product.unit_price,
            )
        )
    return out


def create_order(
    session: Session,
    principal: Principal,
    *,
    organization_id: int,
    lines: Sequence[LineInput] = (),
    delivery: Delivery = Delivery(),
    currency: str = "USD",
    owner_id: int | None = None,
) -> Order:
    """A draft order for an account the principal may read, with a unique number
    (``SO-`` and its id, given when it is stored, so two at once never share one)."""
    policy.get_readable(session, "organization", principal, organization_id)
    owner = owner_id if owner_id is not None else principal.user_id
    if owner is not None:
        active_user(session, owner, "ownerId")
    row = Order(
        number=f"tmp-{uuid.uuid4().hex}",
        organization_id=organization_id,
        owner_id=owner,
        currency=currency_code(currency),
        **_delivery(session, delivery),
    )
    policy.authorize_write(session, principal, "order", row)
    session.add(row)
    session.flush()
    row.number = f"SO-{row.id:06d}"
    for line in _lines(session, lines):
        line.order_id = row.id
        session.add(line)
    session.flush()
    audit.record(
        session, principal, "order.create", entity="order", entity_id=row.id,
        organization_id=organization_id, number=row.number,
    )  # fmt: skip
    return row


def _writable(session: Session, principal: Principal, order_id: int) -> Order:
    row: Order = policy.get_readable(session, "order", principal, order_id)
    policy.authorize_write(session, principal, "order", row)
    return row


def set_order_lines(
    session: Session, principal: Principal, order_id: int, lines: Sequence[LineInput]
) -> Order:
    """Replace a draft's lines (at today's prices); a confirmed order's lines are fixed."""
    row = _writable(session, principal, order_id)
    # the status check and the write in one statement: a confirm racing this edit
    # either sees the new lines or makes this a Conflict
    move(session, row, Order.status, [_D], "change lines", status=_D)
    new = _lines(session, lines)
    for old in session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)):
        session.delete(old)
    session.flush()
    for line in new:
        line.order_id = order_id
        session.add(line)
    session.flush()
    audit.record(
        session, principal, "order.lines", entity="order", entity_id=order_id, lines=len(new)
    )
    return row


def update_delivery(
    session: Session, principal: Principal, order_id: int, delivery: Delivery
) -> Order:
    """Set when and where it is delivered (not once delivered, invoiced or cancelled)."""
    row = _writable(session, principal, order_id)
    move(
        session, row, Order.status, [_D, _C, _S], "change delivery",
        **_delivery(session, delivery),
    )  # fmt: skip
    audit.record(session, principal, "order.delivery", entity="order", entity_id=order_id)
    return row


def move_order(session: Session, principal: Principal, order_id: int, action: str) -> Order:
    """Confirm, schedule, deliver, invoice or cancel; an illegal move is a Conflict naming
    the order's status. An order is confirmed only with a line and scheduled only with a
    delivery date."""
    if action not in MOVES:
        raise InvalidInput(f"unknown action {action!r}", field="action")
    row = _writable(session, principal, order_id)
    if action == "confirm" and not session.scalar(
        select(func.count(OrderLine.id)).where(OrderLine.order_id == order_id)
    ):
        raise InvalidInput("an order needs a line before it is confirmed", field="lines")
    if action == "schedule" and row.delivery_date is None:
        raise InvalidInput("set a delivery date before scheduling", field="delivery.date")
    allowed, to = MOVES[action]
    move(session, row, Order.status, allowed, action, status=to)
    audit.record(session, principal, f"order.{action}", entity="order", entity_id=order_id)
    return row


def _filtered(stmt: Select[Any], f: OrderFilter) -> Select[Any]:
    if f.owner_id is not None:
        stmt = stmt.where(Order.owner_id == f.owner_id)
    if f.organization_id is not None:
        stmt = stmt.where(Order.organization_id == f.organization_id)
    if f.statuses:
        stmt = stmt.where(Order.status.in_(list(f.statuses)))
    if f.delivery_from is not None:
        stmt = stmt.where(Order.delivery_date >= f.delivery_from)
    if f.delivery_to is not None:
        stmt = stmt.where(Order.delivery_date <= f.delivery_to)
    return stmt


def list_orders(
    session: Session,
    principal: Principal,
    *,
    where: OrderFilter,
    first: int,
    after: int | None = None,
) -> tuple[list[Order], bool]:
    """Readable orders matching ``where``, newest first (keyset on id)."""
    stmt = policy.readable(_filtered(select(Order), where), "order", principal)
    if after is not None:
        stmt = stmt.where(Order.id < after)
    rows = list(session.scalars(stmt.order_by(Order.id.desc()).limit(first + 1)))
    return rows[:first], len(rows) > first


def count_orders(session: Session, principal: Principal, where: OrderFilter) -> int:
    stmt = _filtered(select(func.count(Order.id)), where)
    return int(session.scalar(policy.readable(stmt, "order", principal)) or 0)


def lines_of(session: Session, order_ids: Sequence[int]) -> dict[int, list[Any]]:
    """Each order's lines with their product's SKU, name and unit, in the order added
    (the caller loaded the orders in scope)."""
    grouped: dict[int, list[Any]] = defaultdict(list)
    stmt = (
        select(OrderLine, Product.sku, Product.name, Product.unit)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id.in_(list(order_ids)))
        .order_by(OrderLine.id)
    )
    for line, sku, name, unit in session.execute(stmt):
        grouped[line.order_id].append((line, sku, name, unit))
    return grouped
