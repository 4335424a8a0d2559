"""Indexes no query uses, dropped: well status, spud date, state + county; change-record
creation time.

Every index is paid for on every row an import writes: a merge of a 1,000,000-row
permits file writes a million wells and two million change records. No query filters
or sorts on these columns (the well scorer aggregates each operator's wells whole,
change records are read by dataset or by entity), so they cost imports and served
nothing. Plain ``DROP INDEX`` on both databases: no table rebuild, triggers untouched.

Revision ID: 7d83fc6f749d
Revises: 8d7ebd109fa4
Create Date: 2026-11-23 20:20:49.119773
"""

from collections.abc import Sequence

from alembic import op

revision: str = '7d83fc6f749d'
down_revision: str | None = '8d7ebd109fa4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = (
    ("ix_change_record_created_at", "change_record", ["created_at"]),
    ("ix_well_spud_date", "well", ["spud_date"]),
    ("ix_well_state_county", "well", ["state", "county"]),
    ("ix_well_status", "well", ["status"]),
)


def upgrade() -> None:
    for name, table, _ in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in DROPPED:
        op.create_index(name, table, columns, unique=False)
