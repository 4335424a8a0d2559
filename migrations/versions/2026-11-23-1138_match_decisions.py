"""Match decisions: a person's confirmed or denied organization-name pairs.

Reused by every later import's deduplication. Append-only in practice (the latest row
for a pair is in force); the keys are sorted by the application.

Revision ID: 812c0e4845a2
Revises: 7bcf1cd770ec
Create Date: 2026-11-23 11:38:33.795596
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '812c0e4845a2'
down_revision: str | None = '7bcf1cd770ec'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('match_decision',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('left_key', sa.String(length=300), nullable=False),
    sa.Column('right_key', sa.String(length=300), nullable=False),
    sa.Column('verdict', sa.Enum('same', 'different', name='matchverdict', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('decided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('dataset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('left_key <> right_key', name=op.f('ck_match_decision_keys_distinct')),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_match_decision_dataset_id_dataset')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_match_decision_decided_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_decision'))
    )
    with op.batch_alter_table('match_decision', schema=None) as batch_op:
        batch_op.create_index('ix_match_decision_pair', ['left_key', 'right_key', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('match_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_match_decision_pair')

    op.drop_table('match_decision')
