"""Sales modules: tasks, opportunities and orders.

- task: the opportunity it is about; the follow-up rule and dataset that opened it; when
  its assignee was reminded (once).
- opportunity: its source (a dataset, a campaign or a person), next step, lost reason;
  every stage move in ``opportunity_stage_change``; ``pipeline_stage`` holds each
  stage's default win probability (seeded; admins change it: the ``pipeline_stage``
  grant).
- orders: currency, the delivery county and state; the ``invoiced`` status (the status
  CHECK is rebuilt: on SQLite by copying the table, which holds few rows).

Revision ID: 8b81241ce5cd
Revises: 5a8e3f1c9d42
Create Date: 2026-12-01 14:51:41.625453
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8b81241ce5cd'
down_revision: str | None = '5a8e3f1c9d42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: Default win probability per stage (an admin changes them later).
STAGES = {
    'prospecting': 0.1,
    'qualification': 0.2,
    'proposal': 0.5,
    'negotiation': 0.75,
    'won': 1.0,
    'lost': 0.0,
}
ORDER_STATUSES = ('draft', 'confirmed', 'scheduled', 'delivered', 'invoiced', 'cancelled')
STATUS_CHECK = 'ck_orders_orderstatus'


def _order_statuses(values: tuple[str, ...]) -> None:
    """The orders.status CHECK allows exactly ``values``."""
    condition = 'status IN (' + ', '.join(f"'{v}'" for v in values) + ')'
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite cannot alter a constraint: the table is copied with the new one
        with op.batch_alter_table('orders', recreate='always') as batch_op:
            batch_op.drop_constraint(op.f(STATUS_CHECK), type_='check')
            batch_op.create_check_constraint('orderstatus', condition)
    else:
        op.drop_constraint(op.f(STATUS_CHECK), 'orders', type_='check')
        op.create_check_constraint('orderstatus', 'orders', condition)


def upgrade() -> None:
    op.create_table('pipeline_stage',
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('probability', sa.Double(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint('probability BETWEEN 0 AND 1', name=op.f('ck_pipeline_stage_probability_range')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_pipeline_stage_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('stage', name=op.f('pk_pipeline_stage'))
    )
    op.create_table('opportunity_stage_change',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('opportunity_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_stage', sa.String(length=16), nullable=True),
    sa.Column('to_stage', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_stage_change_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_opportunity_stage_change_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_stage_change'))
    )
    with op.batch_alter_table('opportunity_stage_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_stage_change_opportunity_id'), ['opportunity_id'], unique=False)

    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.Enum('dataset', 'campaign', 'person', name='opportunitysource', native_enum=False, create_constraint=True), nullable=True))
        batch_op.add_column(sa.Column('source_dataset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('source_campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('source_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('next_step', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('lost_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_opportunity_source_campaign_id_campaign'), 'campaign', ['source_campaign_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_opportunity_source_user_id_user'), 'user', ['source_user_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('currency', sa.String(length=3), nullable=False, server_default='USD')
        )
        batch_op.add_column(sa.Column('county', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('state', sa.String(length=2), nullable=True))
    _order_statuses(ORDER_STATUSES)

    stage = sa.table(
        'pipeline_stage',
        sa.column('stage', sa.String),
        sa.column('probability', sa.Float),
        sa.column('updated_at', sa.DateTime(timezone=True)),
    )
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(
        stage, [{'stage': k, 'probability': p, 'updated_at': now} for k, p in STAGES.items()]
    )
    conn = op.get_bind()
    role_ids = dict(conn.execute(sa.text("SELECT name, id FROM role")).all())
    grant = sa.table(
        'role_permission',
        sa.column('role_id', sa.Integer),
        sa.column('entity', sa.String),
        sa.column('action', sa.String),
        sa.column('scope', sa.String),
    )
    if 'admin' in role_ids:
        op.bulk_insert(
            grant,
            [
                {'role_id': role_ids['admin'], 'entity': 'pipeline_stage', 'action': a, 'scope': 'all'}
                for a in ('read', 'write')
            ],
        )

    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opportunity_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('opened_by_rule', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('dataset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_task_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_task_opportunity_id_opportunity'), 'opportunity', ['opportunity_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    op.execute(sa.text("DELETE FROM role_permission WHERE entity = 'pipeline_stage'"))
    op.execute(sa.text("UPDATE orders SET status = 'delivered' WHERE status = 'invoiced'"))
    _order_statuses(tuple(s for s in ORDER_STATUSES if s != 'invoiced'))
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_task_opportunity_id_opportunity'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_task_opportunity_id'))
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('dataset_id')
        batch_op.drop_column('opened_by_rule')
        batch_op.drop_column('opportunity_id')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('state')
        batch_op.drop_column('county')
        batch_op.drop_column('currency')

    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_opportunity_source_user_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_opportunity_source_campaign_id_campaign'), type_='foreignkey')
        batch_op.drop_column('lost_reason')
        batch_op.drop_column('next_step')
        batch_op.drop_column('source_user_id')
        batch_op.drop_column('source_campaign_id')
        batch_op.drop_column('source_dataset_id')
        batch_op.drop_constraint(op.f('ck_opportunity_opportunitysource'), type_='check')
        batch_op.drop_column('source')

    with op.batch_alter_table('opportunity_stage_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_stage_change_opportunity_id'))

    op.drop_table('opportunity_stage_change')
    op.drop_table('pipeline_stage')
