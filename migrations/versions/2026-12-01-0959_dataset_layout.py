"""A dataset remembers how its file was read: the fixed-width layout, or the sheet(s) of a
spreadsheet (shown to the analyst beside the format and encoding). A nullable column:
SQLite adds it in place, nothing is copied.

Revision ID: 1e42db8046aa
Revises: 3c1f2a9e5b70
Create Date: 2026-12-01 09:59:02.836917
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1e42db8046aa'
down_revision: str | None = '3c1f2a9e5b70'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('layout', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.drop_column('layout')

