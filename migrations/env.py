"""Alembic environment: runs revisions against ogcrm's own engine.

The connection is normally handed in by :mod:`ogcrm.db.migrate` through
``config.attributes["connection"]``; when Alembic's CLI runs this file directly, the URL
comes from ogcrm's settings (``OGCRM_DATABASE_URL``), never from alembic.ini.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from ogcrm.db import models  # noqa: F401  (registers every table on the metadata)
from ogcrm.db.base import Base
from ogcrm.db.crypto import Sensitive
from ogcrm.db.types import FloatListType, JSONType, UTCDateTime

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render ogcrm's column types as plain SQLAlchemy so revisions never import ogcrm."""
    if type_ == "type" and isinstance(obj, Sensitive):
        return f"sa.String(length={obj.impl.length})"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and obj is JSONType:
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    if type_ == "type" and obj is FloatListType:
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.ARRAY(sa.Float()), 'postgresql')"
    return False


def _include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Indexes named ``ix_pg_*`` exist on PostgreSQL only (made by revisions, not
    declared by the models): autogenerate must not propose dropping them."""
    return not (type_ == "index" and reflected and (name or "").startswith("ix_pg_"))


def _run(connection: Connection) -> None:
    context.configure(
        include_object=_include_object,
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from ogcrm.config import Settings
    from ogcrm.db.migrate import migrating
    from ogcrm.db.session import create_db_engine

    engine = create_db_engine(Settings.from_env().database_url, application_name="ogcrm-migrate")
    try:
        with migrating(engine) as conn:  # SQLite: foreign keys off for table rebuilds
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("ogcrm migrations run online only: they need a live connection")
run_migrations_online()
