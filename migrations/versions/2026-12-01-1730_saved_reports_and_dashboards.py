"""Saved reports (``report``) and each user's dashboard (``dashboard``); the ``report``
grant: everyone reads their own reports and the shared ones and writes their own,
managers read every report, admins read and write every one, viewers only read.

Revision ID: 13c24501010a
Revises: e7e781691a9b
Create Date: 2026-12-01 17:30:49.255465
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '13c24501010a'
down_revision: str | None = 'e7e781691a9b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dashboard',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tiles', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_dashboard_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_dashboard'))
    )
    op.create_table('report',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_report_owner_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report')),
    sa.UniqueConstraint('owner_id', 'name', name=op.f('uq_report_owner_id_name'))
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_owner_id'), ['owner_id'], unique=False)

    conn = op.get_bind()
    role_ids = dict(conn.execute(sa.text("SELECT name, id FROM role")).all())
    grant = sa.table(
        'role_permission',
        sa.column('role_id', sa.Integer),
        sa.column('entity', sa.String),
        sa.column('action', sa.String),
        sa.column('scope', sa.String),
    )
    scopes = {
        'admin': ('all', 'all'),
        'manager': ('all', 'own'),
        'analyst': ('own', 'own'),
        'sales': ('own', 'own'),
        'viewer': ('own', None),
    }
    rows = [
        {'role_id': role_ids[role], 'entity': 'report', 'action': action, 'scope': scope}
        for role, pair in scopes.items()
        if role in role_ids
        for action, scope in zip(('read', 'write'), pair, strict=True)
        if scope is not None
    ]
    if rows:
        op.bulk_insert(grant, rows)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM role_permission WHERE entity = 'report'"))
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_owner_id'))

    op.drop_table('report')
    op.drop_table('dashboard')
