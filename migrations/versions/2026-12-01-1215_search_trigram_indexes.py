"""Search by name or alias through trigram indexes on PostgreSQL.

The working list's ``search`` matches the start of any word of the normalized name
(``LIKE 'KEY%' OR LIKE '% KEY%'``) and any part of an alias; without an index both read
every organization. pg_trgm's GIN indexes serve such LIKE patterns. PostgreSQL only, and
only where the extension is available (it ships with PostgreSQL's contrib package and is
trusted, so the database owner may create it); elsewhere search still works, by scan.
SQLite has no such index and needs none at its sizes. The models do not declare these
indexes (they exist on one backend only): ``migrations/env.py`` tells autogenerate so.

Revision ID: 7d2b9c4e1f30
Revises: 1e42db8046aa
Create Date: 2026-12-01 12:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7d2b9c4e1f30'
down_revision: str | None = '1e42db8046aa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_INDEX = "ix_pg_organization_normalized_name_trgm"
ALIAS_INDEX = "ix_pg_organization_aliases_trgm"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).first()
    if available is None:
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {NAME_INDEX} ON organization "
        "USING gin (normalized_name gin_trgm_ops)"
    )
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {ALIAS_INDEX} ON organization "
        "USING gin ((upper(CAST(aliases AS TEXT))) gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {ALIAS_INDEX}")
    op.execute(f"DROP INDEX IF EXISTS {NAME_INDEX}")
