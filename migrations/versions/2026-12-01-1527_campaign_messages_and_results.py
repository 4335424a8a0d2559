"""Campaigns carry their goal, budget and message; each member, the message it was sent
and the opportunity it became.

Revision ID: 5e7799368b60
Revises: b2c8f60c3fc7
Create Date: 2026-12-01 15:27:22.297845
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5e7799368b60'
down_revision: str | None = 'b2c8f60c3fc7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('goal', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('budget', sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='USD', nullable=False))
        batch_op.add_column(sa.Column('subject', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=True))

    with op.batch_alter_table('campaign_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('opportunity_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_campaign_member_message_id_outbound_message'), 'outbound_message', ['message_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_campaign_member_opportunity_id_opportunity'), 'opportunity', ['opportunity_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('campaign_member', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_campaign_member_opportunity_id_opportunity'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_campaign_member_message_id_outbound_message'), type_='foreignkey')
        batch_op.drop_column('opportunity_id')
        batch_op.drop_column('message_id')

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('body')
        batch_op.drop_column('subject')
        batch_op.drop_column('currency')
        batch_op.drop_column('budget')
        batch_op.drop_column('goal')

