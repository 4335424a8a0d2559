"""The CRM proper: organizations and everything a sales team records about them."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ogcrm.db.base import (
    Base,
    BigIntPK,
    IdMixin,
    TimestampMixin,
    dataset_reference,
    enum_column,
    foreign_key,
)
from ogcrm.db.crypto import MARK, Sensitive, fingerprint
from ogcrm.db.types import utcnow

if TYPE_CHECKING:
    from ogcrm.db.models.rules import OrganizationScore


class OrganizationStatus(enum.StrEnum):
    PROSPECT = "prospect"
    CUSTOMER = "customer"
    FORMER_CUSTOMER = "former_customer"
    INACTIVE = "inactive"


class ConsentStatus(enum.StrEnum):
    UNKNOWN = "unknown"
    GRANTED = "granted"
    DENIED = "denied"


class InteractionKind(enum.StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    NOTE = "note"


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class OpportunityStage(enum.StrEnum):
    PROSPECTING = "prospecting"
    QUALIFICATION = "qualification"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    WON = "won"
    LOST = "lost"


class OrderStatus(enum.StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    SCHEDULED = "scheduled"
    DELIVERED = "delivered"
    INVOICED = "invoiced"
    CANCELLED = "cancelled"


class OpportunitySource(enum.StrEnum):
    """What brought an opportunity: a dataset (a new permit seen in an import), a
    campaign, or a person (a referral, a call)."""

    DATASET = "dataset"
    CAMPAIGN = "campaign"
    PERSON = "person"


class ServiceRequestStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ServiceRequestPriority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"


organization_tag = Table(
    "organization_tag",
    Base.metadata,
    Column(
        "organization_id",
        BigIntPK,
        ForeignKey("organization.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("tag_id", BigIntPK, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_organization_tag_tag_id", "tag_id"),
)

contact_tag = Table(
    "contact_tag",
    Base.metadata,
    Column("contact_id", BigIntPK, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", BigIntPK, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_contact_tag_tag_id", "tag_id"),
)


class Tag(IdMixin, Base):
    __tablename__ = "tag"
    __table_args__ = (
        CheckConstraint("name = lower(trim(name)) AND name <> ''", name="name_normalized"),
    )

    name: Mapped[str] = mapped_column(String(64), unique=True)


class Organization(IdMixin, TimestampMixin, Base):
    """An operator or company: the account a sales rep works.

    Its score and effective priority live in ``organization_score`` (``ranking``),
    loaded with it in the same statement.
    """

    __tablename__ = "organization"
    __table_args__ = (CheckConstraint("normalized_name <> ''", name="normalized_name_not_empty"),)

    name: Mapped[str] = mapped_column(String(300))
    #: Matching key: upper case, punctuation and legal suffixes folded (cleaners set it).
    normalized_name: Mapped[str] = mapped_column(String(300), index=True)
    aliases: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[OrganizationStatus] = enum_column(
        OrganizationStatus, default=OrganizationStatus.PROSPECT
    )
    street: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str | None] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2), default="US")
    phone: Mapped[str | None] = mapped_column(String(32))
    website: Mapped[str | None] = mapped_column(String(300))
    owner_id: Mapped[int | None] = foreign_key("user.id", nullable=True, ondelete="SET NULL")

    override_priority: Mapped[float | None]
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_expires_at: Mapped[dt.datetime | None]
    override_by_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )

    #: The dataset that last wrote regulatory fields of this row (provenance).
    dataset_id: Mapped[int | None] = foreign_key("dataset.id", nullable=True, index=False)

    identifiers: Mapped[list[OrganizationIdentifier]] = relationship(
        back_populates="organization",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    contacts: Mapped[list[Contact]] = relationship(back_populates="organization", lazy="raise")
    tags: Mapped[list[Tag]] = relationship(secondary=organization_tag, lazy="raise")
    ranking: Mapped[OrganizationScore] = relationship(lazy="joined", innerjoin=True, viewonly=True)

    @property
    def priority(self) -> float:
        """Effective priority: a manual override in force, else the rule score."""
        return self.ranking.priority

    @property
    def score(self) -> float:
        return self.ranking.score


class OrganizationIdentifier(IdMixin, Base):
    """A government id of an organization, e.g. a Texas RRC P-5 operator number.

    Unique per agency: two organizations cannot both claim RRC operator ``020528``. The
    identifier is stored trimmed and upper-cased; leading zeros are significant.
    """

    __tablename__ = "organization_identifier"
    __table_args__ = (
        UniqueConstraint("agency", "identifier"),
        CheckConstraint(
            "identifier = upper(trim(identifier)) AND identifier <> ''",
            name="identifier_normalized",
        ),
        CheckConstraint("agency = lower(trim(agency)) AND agency <> ''", name="agency_normalized"),
    )

    organization_id: Mapped[int] = foreign_key("organization.id", ondelete="CASCADE")
    agency: Mapped[str] = mapped_column(String(32))
    identifier: Mapped[str] = mapped_column(String(64))
    dataset_id: Mapped[int | None] = foreign_key("dataset.id", nullable=True, index=False)

    organization: Mapped[Organization] = relationship(back_populates="identifiers", lazy="raise")


class Contact(IdMixin, TimestampMixin, Base):
    """A person at an organization. Their e-mails and phones are separate rows, so that
    deduplication can look a contact up by any of them through an index."""

    __tablename__ = "contact"
    __table_args__ = (
        Index("ix_contact_organization_id_full_name", "organization_id", "full_name"),
    )

    organization_id: Mapped[int] = foreign_key("organization.id", ondelete="CASCADE", index=False)
    full_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    consent: Mapped[ConsentStatus] = enum_column(ConsentStatus, default=ConsentStatus.UNKNOWN)
    consent_at: Mapped[dt.datetime | None]
    consent_source: Mapped[str | None] = mapped_column(String(200))
    dataset_id: Mapped[int | None] = foreign_key("dataset.id", nullable=True, index=False)

    organization: Mapped[Organization] = relationship(back_populates="contacts", lazy="raise")
    emails: Mapped[list[ContactEmail]] = relationship(
        back_populates="contact", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    phones: Mapped[list[ContactPhone]] = relationship(
        back_populates="contact", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class ContactEmail(IdMixin, Base):
    __tablename__ = "contact_email"
    __table_args__ = (
        UniqueConstraint("contact_id", "address"),
        CheckConstraint(f"address LIKE '%_@_%' OR address LIKE '{MARK}%'", name="address_has_at"),
    )

    contact_id: Mapped[int] = foreign_key("contact.id", ondelete="CASCADE", index=False)
    #: Normalized: local part as given, domain lower-cased. Encrypted at rest when a key
    #: is configured (:mod:`ogcrm.db.crypto`), found through ``address_index`` then.
    address: Mapped[str] = mapped_column(Sensitive(320, "contact_email.address"), index=True)
    #: The blind index of the lower-cased address (None while no key is configured).
    address_index: Mapped[str | None] = mapped_column(String(64), index=True)
    label: Mapped[str | None] = mapped_column(String(32))
    is_primary: Mapped[bool] = mapped_column(default=False)

    contact: Mapped[Contact] = relationship(back_populates="emails", lazy="raise")


class ContactPhone(IdMixin, Base):
    __tablename__ = "contact_phone"
    __table_args__ = (
        UniqueConstraint("contact_id", "number"),
        CheckConstraint(f"number LIKE '+%' OR number LIKE '{MARK}%'", name="number_e164"),
    )

    contact_id: Mapped[int] = foreign_key("contact.id", ondelete="CASCADE", index=False)
    #: E.164, e.g. ``+14325550100``; encrypted at rest like an e-mail address.
    number: Mapped[str] = mapped_column(Sensitive(20, "contact_phone.number"), index=True)
    number_index: Mapped[str | None] = mapped_column(String(64), index=True)
    label: Mapped[str | None] = mapped_column(String(32))
    is_primary: Mapped[bool] = mapped_column(default=False)

    contact: Mapped[Contact] = relationship(back_populates="phones", lazy="raise")


@event.listens_for(ContactEmail, "before_insert")
@event.listens_for(ContactEmail, "before_update")
def _index_email(mapper: Any, connection: Any, target: ContactEmail) -> None:
    target.address_index = fingerprint(target.address, fold_case=True)


@event.listens_for(ContactPhone, "before_insert")
@event.listens_for(ContactPhone, "before_update")
def _index_phone(mapper: Any, connection: Any, target: ContactPhone) -> None:
    target.number_index = fingerprint(target.number)


class Interaction(IdMixin, Base):
    """A call, e-mail, meeting or note, logged against an organization."""

    __tablename__ = "interaction"
    __table_args__ = (
        Index("ix_interaction_organization_id_occurred_at", "organization_id", "occurred_at"),
        Index("ix_interaction_user_id_occurred_at", "user_id", "occurred_at"),
    )

    organization_id: Mapped[int] = foreign_key("organization.id", ondelete="CASCADE", index=False)
    contact_id: Mapped[int | None] = foreign_key("contact.id", nullable=True, ondelete="SET NULL")
    user_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )
    kind: Mapped[InteractionKind] = enum_column(InteractionKind)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    subject: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Task(IdMixin, TimestampMixin, Base):
    """A follow-up: something someone must do by a date."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_assignee_id_status_due_at", "assignee_id", "status", "due_at"),
    )

    organization_id: Mapped[int] = foreign_key("organization.id", ondelete="CASCADE")
    contact_id: Mapped[int | None] = foreign_key("contact.id", nullable=True, ondelete="SET NULL")
    assignee_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )
    created_by_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )
    opportunity_id: Mapped[int | None] = foreign_key(
        "opportunity.id", nullable=True, ondelete="SET NULL"
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[dt.datetime | None]
    status: Mapped[TaskStatus] = enum_column(TaskStatus, default=TaskStatus.OPEN)
    completed_at: Mapped[dt.datetime | None]
    #: What opened it, when not a person: the follow-up rule, and the dataset whose
    #: merge set it off.
    opened_by_rule: Mapped[str | None] = mapped_column(String(200))
    dataset_id: Mapped[int | None] = dataset_reference()
    #: When its assignee was told it falls due (each task is reminded once).
    reminded_at: Mapped[dt.datetime | None]


class Opportunity(IdMixin, TimestampMixin, Base):
    __tablename__ = "opportunity"
    __table_args__ = (
        Index("ix_opportunity_owner_id_stage", "owner_id", "stage"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
    )

    organization_id: Mapped[int] = foreign_key("organization.id", ondelete="CASCADE")
    owner_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )
    name: Mapped[str] = mapped_column(String(300))
    stage: Mapped[OpportunityStage] = enum_column(
        OpportunityStage, default=OpportunityStage.PROSPECTING
    )
    amount: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    expected_close: Mapped[dt.date | None] = mapped_column(index=True)
    closed_at: Mapped[dt.datetime | None]
    source: Mapped[OpportunitySource | None] = enum_column(OpportunitySource)
    source_dataset_id: Mapped[int | None] = dataset_reference()
    source_campaign_id: Mapped[int | None] = foreign_key(
        "campaign.id", nullable=True, ondelete="SET NULL", index=False
    )
    source_user_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )
    next_step: Mapped[str | None] = mapped_column(String(300))
    lost_reason: Mapped[str | None] = mapped_column(Text)


class Product(IdMixin, TimestampMixin, Base):
    __tablename__ = "product"
    __table_args__ = (CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),)

    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(32), default="each")
    unit_price: Mapped[Decimal]
    active: Mapped[bool] = mapped_column(default=True)


class Order(IdMixin, TimestampMixin, Base):
    """A (service) order for an operator, often for one lease or well."""

    __tablename__ = "orders"  # ``order`` is a reserved word in SQL

    number: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int] = foreign_key("organization.id", ondelete="RESTRICT")
    owner_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )
    status: Mapped[OrderStatus] = enum_column(OrderStatus, default=OrderStatus.DRAFT)
    currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    delivery_date: Mapped[dt.date | None] = mapped_column(index=True)
    #: The delivery address (street, city), when not a lease or well.
    location: Mapped[str | None] = mapped_column(Text)
    lease: Mapped[str | None] = mapped_column(String(120))
    well_id: Mapped[int | None] = foreign_key("well.id", nullable=True, ondelete="SET NULL")
    county: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class OrderLine(IdMixin, Base):
    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    )

    order_id: Mapped[int] = foreign_key("orders.id", ondelete="CASCADE")
    product_id: Mapped[int] = foreign_key("product.id", ondelete="RESTRICT")
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    unit_price: Mapped[Decimal]

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")


class ServiceRequest(IdMixin, TimestampMixin, Base):
    """A ticket: a customer's request for service, with its resolution."""

    __tablename__ = "service_request"
    __table_args__ = (
        Index("ix_service_request_assignee_id_status", "assignee_id", "status"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
    )

    organization_id: Mapped[int] = foreign_key("organization.id", ondelete="CASCADE")
    contact_id: Mapped[int | None] = foreign_key(
        "contact.id", nullable=True, ondelete="SET NULL", index=False
    )
    assignee_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[ServiceRequestStatus] = enum_column(
        ServiceRequestStatus, default=ServiceRequestStatus.OPEN
    )
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    resolution: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    well_id: Mapped[int | None] = foreign_key(
        "well.id", nullable=True, ondelete="SET NULL", index=False
    )
    resolved_at: Mapped[dt.datetime | None]
    priority: Mapped[ServiceRequestPriority] = enum_column(
        ServiceRequestPriority, default=ServiceRequestPriority.NORMAL
    )
    #: Where the work is: the well's county and state, or as given.
    county: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    #: When it must be resolved by, from its kind and priority.
    sla_due_at: Mapped[dt.datetime | None]
    team_id: Mapped[int | None] = foreign_key(
        "team.id", nullable=True, ondelete="SET NULL", index=False
    )
    #: The routing rule that assigned it (null: assigned by a person, or by no rule).
    routed_by_rule: Mapped[str | None] = mapped_column(String(200))
    #: The customer's feedback once resolved: a 1-5 rating and a comment.
    rating: Mapped[int | None]
    feedback: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[dt.datetime | None]


class Segment(IdMixin, TimestampMixin, Base):
    """A saved filter over organizations (JSON-logic, evaluated by the rules engine)."""

    __tablename__ = "segment"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    filter: Mapped[dict[str, Any]] = mapped_column(default=dict)
    owner_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )


class Campaign(IdMixin, TimestampMixin, Base):
    __tablename__ = "campaign"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    segment_id: Mapped[int | None] = foreign_key("segment.id", nullable=True, ondelete="SET NULL")
    owner_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )
    status: Mapped[CampaignStatus] = enum_column(CampaignStatus, default=CampaignStatus.DRAFT)
    starts_at: Mapped[dt.datetime | None]
    ends_at: Mapped[dt.datetime | None]
    goal: Mapped[str | None] = mapped_column(Text, default="")
    budget: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    #: The message each member gets ({contact} and {organization} filled in).
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)


class CampaignMember(IdMixin, Base):
    """An organization (and optionally one contact) targeted by a campaign, and the outcome."""

    __tablename__ = "campaign_member"
    __table_args__ = (UniqueConstraint("campaign_id", "organization_id", "contact_id"),)

    campaign_id: Mapped[int] = foreign_key("campaign.id", ondelete="CASCADE", index=False)
    organization_id: Mapped[int] = foreign_key("organization.id", ondelete="CASCADE")
    contact_id: Mapped[int | None] = foreign_key(
        "contact.id", nullable=True, ondelete="SET NULL", index=False
    )
    outcome: Mapped[str | None] = mapped_column(String(64))
    responded_at: Mapped[dt.datetime | None]
    message_id: Mapped[int | None] = foreign_key(
        "outbound_message.id", nullable=True, ondelete="SET NULL", index=False
    )
    opportunity_id: Mapped[int | None] = foreign_key(
        "opportunity.id", nullable=True, ondelete="SET NULL", index=False
    )


class OrganizationEvent(IdMixin, Base):
    """Something that happened to an account, on its timeline: what a merge changed
    (new permits, new wells, an operator transfer, production reported, contact details
    changed), one event per kind per dataset, with the counts and examples in ``data``."""

    __tablename__ = "organization_event"
    __table_args__ = (
        Index("ix_organization_event_organization_id_created_at", "organization_id", "created_at"),
    )

    organization_id: Mapped[int] = foreign_key("organization.id", ondelete="CASCADE", index=False)
    dataset_id: Mapped[int | None] = foreign_key("dataset.id", nullable=True, index=False)
    kind: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
