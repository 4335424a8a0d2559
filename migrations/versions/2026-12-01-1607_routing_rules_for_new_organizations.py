"""Routing rules say what they route: service requests (as before), or the new, unowned
organizations a merged dataset creates.

Revision ID: e7e781691a9b
Revises: 9e6432630a08
Create Date: 2026-12-01 16:07:46.647516
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e7e781691a9b'
down_revision: str | None = '9e6432630a08'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applies_to', sa.String(length=16), server_default='service_request', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.drop_column('applies_to')

