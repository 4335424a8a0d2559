"""Service requests routed by rules: a request's priority, location (county, state), SLA
due time, team, the routing rule that assigned it and the customer's rating; the
ordered ``routing_rule`` list, and its grant (admins and managers).

Revision ID: b2c8f60c3fc7
Revises: f62dfc704045
Create Date: 2026-12-01 15:12:55.411687
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = 'b2c8f60c3fc7'
down_revision: str | None = 'f62dfc704045'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('routing_rule',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('logic', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('assign_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('assign_team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint('assign_user_id IS NOT NULL OR assign_team_id IS NOT NULL', name=op.f('ck_routing_rule_assigns_someone')),
    sa.ForeignKeyConstraint(['assign_team_id'], ['team.id'], name=op.f('fk_routing_rule_assign_team_id_team'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assign_user_id'], ['user.id'], name=op.f('fk_routing_rule_assign_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_routing_rule_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rule')),
    sa.UniqueConstraint('position', name=op.f('uq_routing_rule_position'))
    )
    with op.batch_alter_table('service_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Enum('low', 'normal', 'high', 'urgent', name='servicerequestpriority', native_enum=False, create_constraint=True), nullable=False, server_default='normal'))
        batch_op.add_column(sa.Column('county', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('state', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('routed_by_rule', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('rating', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('feedback', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('feedback_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_service_request_team_id_team'), 'team', ['team_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint('rating_range', 'rating IS NULL OR rating BETWEEN 1 AND 5')
    # existing requests got the default; new ones always say their priority
    with op.batch_alter_table('service_request', schema=None) as batch_op:
        batch_op.alter_column('priority', server_default=None)

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
        {'role_id': role_ids[role], 'entity': 'routing_rule', 'action': action, 'scope': 'all'}
        for role in ('admin', 'manager')
        if role in role_ids
        for action in ('read', 'write')
    ]
    if rows:
        op.bulk_insert(grant, rows)



def downgrade() -> None:
    op.execute(sa.text("DELETE FROM role_permission WHERE entity = 'routing_rule'"))
    with op.batch_alter_table('service_request', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_service_request_rating_range'), type_='check')
        batch_op.drop_constraint(
            batch_op.f('ck_service_request_servicerequestpriority'), type_='check'
        )
        batch_op.drop_constraint(batch_op.f('fk_service_request_team_id_team'), type_='foreignkey')
        batch_op.drop_column('feedback_at')
        batch_op.drop_column('feedback')
        batch_op.drop_column('rating')
        batch_op.drop_column('routed_by_rule')
        batch_op.drop_column('team_id')
        batch_op.drop_column('sla_due_at')
        batch_op.drop_column('state')
        batch_op.drop_column('county')
        batch_op.drop_column('priority')

    op.drop_table('routing_rule')
