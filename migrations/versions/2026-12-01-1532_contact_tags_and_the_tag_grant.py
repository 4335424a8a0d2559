"""Contacts are tagged like organizations (``contact_tag``); the ``tag`` grant (creating,
renaming and merging tags) goes to admins and managers, reading to everyone.

Revision ID: 9e6432630a08
Revises: 5e7799368b60
Create Date: 2026-12-01 15:32:30.995004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9e6432630a08'
down_revision: str | None = '5e7799368b60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contact_tag',
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_contact_tag_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_contact_tag_tag_id_tag'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', 'tag_id', name=op.f('pk_contact_tag'))
    )
    with op.batch_alter_table('contact_tag', schema=None) as batch_op:
        batch_op.create_index('ix_contact_tag_tag_id', ['tag_id'], unique=False)

    conn = op.get_bind()
    role_ids = dict(conn.execute(sa.text("SELECT name, id FROM role")).all())
    grant = sa.table(
        'role_permission',
        sa.column('role_id', sa.Integer),
        sa.column('entity', sa.String),
        sa.column('action', sa.String),
        sa.column('scope', sa.String),
    )
    rows = [
        {'role_id': role_ids[role], 'entity': 'tag', 'action': action, 'scope': 'all'}
        for role in role_ids
        for action in ('read', 'write')
        if action == 'read' or role in ('admin', 'manager')
    ]
    if rows:
        op.bulk_insert(grant, rows)



def downgrade() -> None:
    op.execute(sa.text("DELETE FROM role_permission WHERE entity = 'tag'"))
    with op.batch_alter_table('contact_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_tag_tag_id')

    op.drop_table('contact_tag')
