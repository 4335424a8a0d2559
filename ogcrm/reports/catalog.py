"""The allow-listed catalog a report is built from: subjects (what is counted), their
dimensions (what rows are grouped by) and metrics (what is summed, counted or averaged).

A report names entries of this catalog and nothing else, so no SQL ever comes from a
user: each entry is a SQLAlchemy expression written here, compiled for the database at
hand. Each subject also says which policy kind scopes its rows, which date its period
filter applies to, and which organization its rows belong to (for a segment filter).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, Select, case, cast, func, select
from sqlalchemy.orm import aliased

from ogcrm.db.models import (
    CellIssue,
    Interaction,
    Opportunity,
    OpportunityStage,
    Order,
    OrderLine,
    Organization,
    OrganizationScore,
    Permit,
    PipelineStage,
    Product,
    ProductionReport,
    ServiceRequest,
    ServiceRequestPriority,
    StagedRow,
    Task,
    TaskStatus,
    User,
    Well,
)
from ogcrm.reports.dialect import days_between, month_start, week_start


class Shape(enum.StrEnum):
    """What a dimension's values are, for charts (Vega-Lite's field types)."""

    NOMINAL = "nominal"
    ORDINAL = "ordinal"
    TEMPORAL = "temporal"
    QUANTITATIVE = "quantitative"


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    expr: Any
    shape: Shape = Shape.NOMINAL
    #: The values' natural order when it is not alphabetical (pipeline stages).
    order: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    expr: Any
    #: Whole numbers (counts) rather than amounts.
    integer: bool = False


@dataclass(frozen=True)
class Subject:
    name: str
    label: str
    #: The policy kind whose read scope limits the rows.
    scope: str
    #: The FROM clause with every join the entries need (unused outer joins to unique
    #: keys are dropped by both planners).
    source: Callable[[], Select[Any]]
    #: The dates a period filter can apply to, by name; the first is the default.
    dates: Mapping[str, Any]
    dimensions: Mapping[str, Dimension]
    metrics: Mapping[str, Metric]
    #: The organization a row belongs to (segment filters), if any.
    organization: Any = None


def _dims(*items: Dimension) -> dict[str, Dimension]:
    return {d.name: d for d in items}


def _metrics(*items: Metric) -> dict[str, Metric]:
    return {x.name: x for x in items}


def _count(label: str = "Count") -> Metric:
    return Metric("count", label, func.count(), integer=True)


def _month(expr: Any, name: str = "month", label: str = "Month") -> Dimension:
    return Dimension(name, label, month_start(expr), Shape.TEMPORAL)


def _when_true(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _float(expr: Any) -> Any:
    return cast(expr, Float)


_operator = aliased(Organization, name="operator")


def _permits() -> Subject:
    return Subject(
        "permits", "Drilling permits", "permit",
        lambda: select().select_from(Permit).outerjoin(_operator, _operator.id == Permit.operator_id),
        {"issued": Permit.issued_on, "received": Permit.received_on},
        _dims(
            Dimension("operator", "Operator", _operator.name),
            Dimension("county", "County", Permit.county),
            Dimension("state", "State", Permit.state),
            Dimension("permit_type", "Permit type", Permit.permit_type),
            Dimension("status", "Status", Permit.status),
            _month(Permit.issued_on),
        ),
        _metrics(_count("Permits"), Metric("avg_depth_ft", "Average depth (ft)", func.avg(Permit.total_depth_ft))),
        organization=Permit.operator_id,
    )  # fmt: skip


def _wells() -> Subject:
    active = func.upper(Well.status).in_(["ACTIVE", "PRODUCING", "AC", "PR"])
    return Subject(
        "wells", "Wells", "well",
        lambda: select().select_from(Well).outerjoin(_operator, _operator.id == Well.operator_id),
        {"spud": Well.spud_date, "completion": Well.completion_date},
        _dims(
            Dimension("operator", "Operator", _operator.name),
            Dimension("county", "County", Well.county),
            Dimension("state", "State", Well.state),
            Dimension("status", "Status", Well.status),
            Dimension("well_type", "Well type", Well.well_type),
            _month(Well.spud_date, "spud_month", "Spud month"),
        ),
        _metrics(_count("Wells"), Metric("active", "Active wells", _when_true(active), integer=True)),
        organization=Well.operator_id,
    )  # fmt: skip


def _production() -> Subject:
    well = aliased(Well, name="producing_well")
    oil = func.coalesce(func.sum(ProductionReport.oil_bbl), 0.0)
    gas = func.coalesce(func.sum(ProductionReport.gas_mcf), 0.0)
    return Subject(
        "production", "Monthly production", "production",
        lambda: select().select_from(ProductionReport)
        .outerjoin(_operator, _operator.id == ProductionReport.operator_id)
        .outerjoin(well, well.id == ProductionReport.well_id),
        {"month": ProductionReport.month},
        _dims(
            Dimension("operator", "Operator", _operator.name),
            Dimension("county", "County", well.county),
            Dimension("state", "State", well.state),
            _month(ProductionReport.month),
        ),
        _metrics(
            Metric("oil_bbl", "Oil (bbl)", oil),
            Metric("gas_mcf", "Gas (mcf)", gas),
            Metric("water_bbl", "Water (bbl)", func.coalesce(func.sum(ProductionReport.water_bbl), 0.0)),
            # barrels of oil equivalent: 6 mcf of gas to the barrel, the industry's convention
            Metric("boe", "Barrels of oil equivalent", oil + gas / 6.0),
            Metric("wells", "Reporting wells", func.count(ProductionReport.well_id.distinct()), integer=True),
        ),
        organization=ProductionReport.operator_id,
    )  # fmt: skip


def _organizations() -> Subject:
    owner = aliased(User, name="account_owner")
    bucket = cast(func.floor(OrganizationScore.priority / 10) * 10, Integer)
    return Subject(
        "organizations", "Accounts", "organization",
        lambda: select().select_from(Organization)
        .join(OrganizationScore, OrganizationScore.organization_id == Organization.id)
        .outerjoin(owner, owner.id == Organization.owner_id),
        {"created": Organization.created_at},
        _dims(
            Dimension("owner", "Owner", owner.name),
            Dimension("state", "State", Organization.state),
            Dimension("status", "Status", Organization.status),
            Dimension("priority_bucket", "Priority (bucket of 10)", bucket, Shape.ORDINAL),
        ),
        _metrics(
            _count("Accounts"),
            Metric("avg_priority", "Average priority", func.avg(OrganizationScore.priority)),
        ),
        organization=Organization.id,
    )  # fmt: skip


def _opportunities() -> Subject:
    owner = aliased(User, name="opportunity_owner")
    amount = _float(func.coalesce(Opportunity.amount, 0))
    won = Opportunity.stage == OpportunityStage.WON
    closed = Opportunity.stage.in_([OpportunityStage.WON, OpportunityStage.LOST])
    return Subject(
        "opportunities", "Opportunities", "opportunity",
        lambda: select().select_from(Opportunity)
        .outerjoin(owner, owner.id == Opportunity.owner_id)
        .outerjoin(PipelineStage, PipelineStage.stage == Opportunity.stage),
        {"expected_close": Opportunity.expected_close, "closed": Opportunity.closed_at,
         "created": Opportunity.created_at},
        _dims(
            Dimension("stage", "Stage", Opportunity.stage, Shape.ORDINAL,
                      tuple(s.value for s in OpportunityStage)),
            Dimension("owner", "Owner", owner.name),
            Dimension("source", "Source", Opportunity.source),
            Dimension("currency", "Currency", Opportunity.currency),
            _month(Opportunity.expected_close, "close_month", "Expected close"),
            _month(Opportunity.closed_at, "closed_month", "Closed"),
        ),
        _metrics(
            _count("Opportunities"),
            Metric("amount", "Amount", func.sum(amount)),
            Metric("weighted_amount", "Weighted amount",
                   func.sum(amount * func.coalesce(PipelineStage.probability, 0.0))),
            Metric("won", "Won", _when_true(won), integer=True),
            Metric("lost", "Lost", _when_true(Opportunity.stage == OpportunityStage.LOST), integer=True),
            Metric("win_rate", "Win rate",
                   _float(_when_true(won)) / func.nullif(_when_true(closed), 0)),
            Metric("avg_days_to_close", "Average days to close (won)",
                   func.avg(case((won, days_between(Opportunity.closed_at, Opportunity.created_at))))),
        ),
        organization=Opportunity.organization_id,
    )  # fmt: skip


def _interactions() -> Subject:
    rep = aliased(User, name="rep")
    return Subject(
        "interactions", "Interactions", "interaction",
        lambda: select().select_from(Interaction).outerjoin(rep, rep.id == Interaction.user_id),
        {"occurred": Interaction.occurred_at},
        _dims(
            Dimension("rep", "Rep", rep.name),
            Dimension("kind", "Kind", Interaction.kind),
            Dimension("week", "Week", week_start(Interaction.occurred_at), Shape.TEMPORAL),
            _month(Interaction.occurred_at),
        ),
        _metrics(_count("Interactions")),
        organization=Interaction.organization_id,
    )  # fmt: skip


def _tasks() -> Subject:
    assignee = aliased(User, name="assignee")
    is_open = Task.status == TaskStatus.OPEN
    return Subject(
        "tasks", "Follow-ups", "task",
        lambda: select().select_from(Task).outerjoin(assignee, assignee.id == Task.assignee_id),
        {"due": Task.due_at, "created": Task.created_at},
        _dims(
            Dimension("assignee", "Assignee", assignee.name),
            Dimension("status", "Status", Task.status),
            _month(Task.due_at, "due_month", "Due"),
        ),
        _metrics(
            _count("Follow-ups"),
            Metric("open", "Open", _when_true(is_open), integer=True),
            # the database's clock, read when the report runs (a UTC timestamp on both)
            Metric("overdue", "Overdue", _when_true(is_open & (Task.due_at < func.current_timestamp())),
                   integer=True),
        ),
        organization=Task.organization_id,
    )  # fmt: skip


def _service_requests() -> Subject:
    assignee = aliased(User, name="service_assignee")
    return Subject(
        "service_requests", "Service requests", "service_request",
        lambda: select().select_from(ServiceRequest)
        .outerjoin(assignee, assignee.id == ServiceRequest.assignee_id),
        {"opened": ServiceRequest.created_at, "resolved": ServiceRequest.resolved_at},
        _dims(
            Dimension("county", "County", ServiceRequest.county),
            Dimension("state", "State", ServiceRequest.state),
            Dimension("kind", "Kind", ServiceRequest.kind),
            Dimension("status", "Status", ServiceRequest.status),
            Dimension("priority", "Priority", ServiceRequest.priority, Shape.ORDINAL,
                      tuple(p.value for p in ServiceRequestPriority)),
            Dimension("assignee", "Assignee", assignee.name),
            _month(ServiceRequest.created_at),
        ),
        _metrics(
            _count("Requests"),
            Metric("avg_hours_to_resolve", "Average hours to resolve",
                   func.avg(days_between(ServiceRequest.resolved_at, ServiceRequest.created_at) * 24)),
            Metric("avg_rating", "Average satisfaction (1-5)", func.avg(_float(ServiceRequest.rating))),
            Metric("rated", "Rated", func.count(ServiceRequest.rating), integer=True),
        ),
        organization=ServiceRequest.organization_id,
    )  # fmt: skip


def _order_lines() -> Subject:
    revenue = _float(OrderLine.quantity) * _float(OrderLine.unit_price)
    return Subject(
        "order_lines", "Orders (by line)", "order",
        lambda: select().select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id),
        {"ordered": Order.created_at, "delivery": Order.delivery_date},
        _dims(
            Dimension("product", "Product", Product.name),
            Dimension("sku", "SKU", Product.sku),
            Dimension("county", "County", Order.county),
            Dimension("state", "State", Order.state),
            Dimension("status", "Status", Order.status),
            Dimension("currency", "Currency", Order.currency),
            _month(Order.created_at),
            _month(Order.delivery_date, "delivery_month", "Delivery month"),
        ),
        _metrics(
            Metric("orders", "Orders", func.count(Order.id.distinct()), integer=True),
            Metric("quantity", "Quantity", func.sum(_float(OrderLine.quantity))),
            Metric("revenue", "Revenue", func.sum(revenue)),
        ),
        organization=Order.organization_id,
    )  # fmt: skip


def _staged_rows() -> Subject:
    return Subject(
        "staged_rows", "Imported rows", "dataset",
        lambda: select().select_from(StagedRow),
        {},
        _dims(
            Dimension("dataset", "Dataset", StagedRow.dataset_id, Shape.ORDINAL),
            Dimension("outcome", "Outcome", StagedRow.outcome),
        ),
        _metrics(_count("Rows")),
    )  # fmt: skip


def _cell_issues() -> Subject:
    return Subject(
        "cell_issues", "Corrections and issues", "dataset",
        lambda: select().select_from(CellIssue),
        {},
        _dims(
            Dimension("dataset", "Dataset", CellIssue.dataset_id, Shape.ORDINAL),
            Dimension("cleaner", "Cleaner", CellIssue.cleaner),
            Dimension("column", "Column", CellIssue.column),
            Dimension("severity", "Severity", CellIssue.severity),
        ),
        _metrics(_count("Issues")),
    )  # fmt: skip


SUBJECTS: dict[str, Subject] = {
    s.name: s
    for s in (
        _permits(), _wells(), _production(), _organizations(), _opportunities(),
        _interactions(), _tasks(), _service_requests(), _order_lines(), _staged_rows(),
        _cell_issues(),
    )
}  # fmt: skip
