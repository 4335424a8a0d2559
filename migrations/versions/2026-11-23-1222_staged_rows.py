"""Staged rows: a processed file's cleaned rows awaiting review (the originals of the
values cleaners changed are in cell_issue).

Revision ID: 85d98b13b1f4
Revises: 812c0e4845a2
Create Date: 2026-11-23 12:22:11.713635
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
revision: str = '85d98b13b1f4'
down_revision: str | None = '812c0e4845a2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('staged_row',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dataset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('row_number', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.Enum('clean', 'fixed', 'quarantined', 'duplicate', name='rowoutcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('cleaned', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_staged_row_dataset_id_dataset'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staged_row')),
    sa.UniqueConstraint('dataset_id', 'row_number', name=op.f('uq_staged_row_dataset_id_row_number'))
    )
    with op.batch_alter_table('staged_row', schema=None) as batch_op:
        batch_op.create_index('ix_staged_row_dataset_id_outcome_row_number', ['dataset_id', 'outcome', 'row_number'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('staged_row', schema=None) as batch_op:
        batch_op.drop_index('ix_staged_row_dataset_id_outcome_row_number')

    op.drop_table('staged_row')
