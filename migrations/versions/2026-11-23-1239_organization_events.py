"""Organization events: an account's timeline of what merges changed.

Revision ID: 52cbe368923f
Revises: 85d98b13b1f4
Create Date: 2026-11-23 12:39:18.044784
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '52cbe368923f'
down_revision: str | None = '85d98b13b1f4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organization_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dataset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_organization_event_dataset_id_dataset')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_organization_event_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_event'))
    )
    with op.batch_alter_table('organization_event', schema=None) as batch_op:
        batch_op.create_index('ix_organization_event_organization_id_created_at', ['organization_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('organization_event', schema=None) as batch_op:
        batch_op.drop_index('ix_organization_event_organization_id_created_at')

    op.drop_table('organization_event')
