"""Who may do what: users, roles with per-entity scopes, teams, and the audit log."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ogcrm.db.base import Base, BigIntPK, IdMixin, TimestampMixin, enum_column, foreign_key
from ogcrm.db.types import utcnow


class Scope(enum.StrEnum):
    """How far a permission reaches: rows one owns, rows of one's teams, or every row."""

    NONE = "none"
    OWN = "own"
    TEAM = "team"
    ALL = "all"


class Action(enum.StrEnum):
    READ = "read"
    WRITE = "write"


team_membership = Table(
    "team_membership",
    Base.metadata,
    Column("team_id", BigIntPK, ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigIntPK, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_team_membership_user_id", "user_id"),
)


class Role(IdMixin, TimestampMixin, Base):
    """A named bundle of permissions (admin, manager, analyst, sales, viewer, or custom)."""

    __tablename__ = "role"

    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")

    permissions: Mapped[list[RolePermission]] = relationship(
        back_populates="role", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class RolePermission(IdMixin, Base):
    """One grant: for ``entity`` kind, ``action`` is allowed within ``scope``."""

    __tablename__ = "role_permission"
    __table_args__ = (
        Index("uq_role_permission_role_entity_action", "role_id", "entity", "action", unique=True),
    )

    role_id: Mapped[int] = foreign_key("role.id", ondelete="CASCADE", index=False)
    entity: Mapped[str] = mapped_column(String(64))
    action: Mapped[Action] = enum_column(Action)
    scope: Mapped[Scope] = enum_column(Scope)

    role: Mapped[Role] = relationship(back_populates="permissions", lazy="raise")


class Team(IdMixin, TimestampMixin, Base):
    __tablename__ = "team"

    name: Mapped[str] = mapped_column(String(128), unique=True)

    members: Mapped[list[User]] = relationship(
        secondary=team_membership, back_populates="teams", lazy="raise"
    )


class User(IdMixin, TimestampMixin, Base):
    """A person who signs in. E-mail is the login and is stored lower-cased."""

    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(
            "email = lower(trim(email)) AND email LIKE '%_@_%'", name="email_normalized"
        ),
    )

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role_id: Mapped[int] = foreign_key("role.id", ondelete="RESTRICT")
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Bumped to invalidate every token of this user at once (logout everywhere,
    #: password change, deactivation).
    token_version: Mapped[int] = mapped_column(default=0)
    last_login_at: Mapped[dt.datetime | None]

    role: Mapped[Role] = relationship(lazy="raise")
    teams: Mapped[list[Team]] = relationship(
        secondary=team_membership, back_populates="members", lazy="raise"
    )


class AuditEvent(IdMixin, Base):
    """An append-only record of a write or a read of contact details.

    Rows are never updated or deleted; the database refuses it (see the migration that
    installs the triggers), so not even a bug in ogcrm can rewrite history.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_entity_entity_id", "entity", "entity_id"),
        Index("ix_audit_event_user_id_occurred_at", "user_id", "occurred_at"),
    )

    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    #: Kept even if the user row is later removed, hence no cascading foreign key action.
    user_id: Mapped[int | None] = foreign_key("user.id", nullable=True, index=False)
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AuthSession(IdMixin, Base):
    """One login, and the family of rotating refresh tokens issued from it.

    Access tokens carry the session id, so revoking the session (logout, or a replayed
    refresh token) refuses them at once rather than when they expire.
    """

    __tablename__ = "auth_session"

    user_id: Mapped[int] = foreign_key("user.id", ondelete="CASCADE")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class RefreshToken(IdMixin, Base):
    """A refresh token, stored only as its SHA-256. ``used_at`` is set when it is rotated;
    presenting a used token again is a replay and revokes its session."""

    __tablename__ = "refresh_token"

    session_id: Mapped[int] = foreign_key("auth_session.id", ondelete="CASCADE")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    used_at: Mapped[dt.datetime | None]
