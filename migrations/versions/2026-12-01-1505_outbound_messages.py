"""Outbound messages: every e-mail ogcrm sends, or refuses to send, recorded (who, which
template, when, the outcome); the body is kept only until the message is sent.

Revision ID: f62dfc704045
Revises: 8b81241ce5cd
Create Date: 2026-12-01 15:05:55.471678
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'f62dfc704045'
down_revision: str | None = '8b81241ce5cd'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbound_message',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=True),
    sa.Column('to_name', sa.String(length=200), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.Enum('queued', 'sending', 'sent', 'failed', 'skipped', name='messagestatus', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('notifier', sa.String(length=64), nullable=True),
    sa.Column('provider_id', sa.String(length=300), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_outbound_message_contact_id_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_outbound_message_task_id_task'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_outbound_message_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_message'))
    )
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_message_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_outbound_message_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_message_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_message_user_id'))
        batch_op.drop_index('ix_outbound_message_status_created_at')
        batch_op.drop_index(batch_op.f('ix_outbound_message_contact_id'))

    op.drop_table('outbound_message')
