"""Organization scores apart from organizations; positional score explanations.

A full rescore rewrote every organization row (1M rows: 15 s on PostgreSQL, most of it
index maintenance on wide rows). Scores now live in the narrow ``organization_score``
(one row per organization, inserted by a trigger on ``organization``), the explanation
lives once in the score snapshot as a list of numbers in rule order, and the snapshot
history drops its foreign keys (a lookup per inserted row).

SQLite: ``organization`` loses its columns with native ``ALTER TABLE ... DROP COLUMN``,
not batch mode, because recreating a table others reference with foreign keys on would
cascade-delete their rows. A later batch operation on ``organization`` must re-create
the trigger.

Revision ID: 20d5694df5c7
Revises: 52cbe368923f
Create Date: 2026-11-23 16:22:19.202750
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '20d5694df5c7'
down_revision: str | None = '52cbe368923f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_COLUMNS = ("scored_at", "priority", "score_explanation", "score")


def _is_pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _install_score_row_trigger() -> None:
    if _is_pg():
        op.execute(
            """
            CREATE FUNCTION ogcrm_organization_score_row() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO organization_score (organization_id) VALUES (NEW.id);
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER organization_score_row AFTER INSERT ON organization "
            "FOR EACH ROW EXECUTE FUNCTION ogcrm_organization_score_row()"
        )
    else:
        op.execute(
            "CREATE TRIGGER organization_score_row AFTER INSERT ON organization "
            "BEGIN INSERT INTO organization_score (organization_id) VALUES (NEW.id); END"
        )


def _remove_score_row_trigger() -> None:
    if _is_pg():
        op.execute("DROP TRIGGER IF EXISTS organization_score_row ON organization")
        op.execute("DROP FUNCTION IF EXISTS ogcrm_organization_score_row()")
    else:
        op.execute("DROP TRIGGER IF EXISTS organization_score_row")


def _rules_by_set(bind: sa.Connection) -> dict[int, list[str]]:
    """Each rule set's enabled rule names in position order (what positions mean)."""
    out: dict[int, list[str]] = {}
    for set_id, name in bind.execute(
        sa.text("SELECT rule_set_id, name FROM rule WHERE enabled ORDER BY rule_set_id, position")
    ):
        out.setdefault(set_id, []).append(name)
    return out


def _convert_snapshots() -> None:
    """Rewrite snapshot explanations from ``[{"rule", "contribution"}, ...]`` (the rules
    that added something) to one number per enabled rule in position order."""
    bind = op.get_bind()
    rules = _rules_by_set(bind)
    rows = bind.execute(sa.text("SELECT id, rule_set_id, contributions FROM score_snapshot")).all()
    update = (
        "UPDATE score_snapshot SET contributions_new = CAST(:v AS double precision[]) WHERE id = :id"
        if _is_pg()
        else "UPDATE score_snapshot SET contributions = :v WHERE id = :id"
    )
    for snap_id, set_id, value in rows:
        value = json.loads(value) if isinstance(value, str) else (value or [])
        by_name = {part["rule"]: float(part["contribution"]) for part in value}
        new = [by_name.get(name, 0.0) for name in rules.get(set_id, [])]
        bind.execute(sa.text(update), {"v": new if _is_pg() else json.dumps(new), "id": snap_id})


def upgrade() -> None:
    op.create_table('organization_score',
    sa.Column('organization_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('score', sa.Double(), server_default=sa.text('0'), nullable=False),
    sa.Column('priority', sa.Double(), server_default=sa.text('0'), nullable=False),
    sa.Column('rule_set_id', sa.BigInteger(), nullable=True),
    sa.Column('snapshot_id', sa.BigInteger(), nullable=True),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_organization_score_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_organization_score'))
    )
    op.execute(
        "INSERT INTO organization_score (organization_id, score, priority, scored_at) "
        "SELECT id, score, priority, scored_at FROM organization"
    )
    op.create_index('ix_organization_score_priority', 'organization_score', ['priority', 'organization_id'], unique=False)
    _install_score_row_trigger()

    op.drop_index(op.f('ix_organization_owner_id_priority'), table_name='organization')
    op.drop_index(op.f('ix_organization_priority_id'), table_name='organization')
    op.create_index(op.f('ix_organization_owner_id'), 'organization', ['owner_id'], unique=False)
    for column in _OLD_COLUMNS:
        if _is_pg():
            op.drop_column('organization', column)
        else:
            op.execute(f"ALTER TABLE organization DROP COLUMN {column}")

    if _is_pg():
        op.add_column('score_snapshot', sa.Column('contributions_new', postgresql.ARRAY(sa.Float()), nullable=True))
        _convert_snapshots()
        op.drop_column('score_snapshot', 'contributions')
        op.alter_column('score_snapshot', 'contributions_new', new_column_name='contributions', nullable=False)
        op.drop_constraint(op.f('fk_score_snapshot_organization_id_organization'), 'score_snapshot', type_='foreignkey')
        op.drop_constraint(op.f('fk_score_snapshot_rule_set_id_rule_set'), 'score_snapshot', type_='foreignkey')
        op.drop_index(op.f('ix_score_snapshot_rule_set_id'), table_name='score_snapshot')
    else:
        _convert_snapshots()
        with op.batch_alter_table('score_snapshot', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_score_snapshot_organization_id_organization'), type_='foreignkey')
            batch_op.drop_constraint(batch_op.f('fk_score_snapshot_rule_set_id_rule_set'), type_='foreignkey')
            batch_op.drop_index(batch_op.f('ix_score_snapshot_rule_set_id'))


def downgrade() -> None:
    op.create_index(op.f('ix_score_snapshot_rule_set_id'), 'score_snapshot', ['rule_set_id'], unique=False)
    if _is_pg():
        op.create_foreign_key(op.f('fk_score_snapshot_rule_set_id_rule_set'), 'score_snapshot', 'rule_set', ['rule_set_id'], ['id'], ondelete='RESTRICT')
        op.create_foreign_key(op.f('fk_score_snapshot_organization_id_organization'), 'score_snapshot', 'organization', ['organization_id'], ['id'], ondelete='CASCADE')
        op.alter_column('score_snapshot', 'contributions', new_column_name='contributions_old')
        op.add_column('score_snapshot', sa.Column('contributions', postgresql.JSONB(), nullable=True))
        op.execute(
            "UPDATE score_snapshot SET contributions = to_jsonb(contributions_old)"
        )
        op.drop_column('score_snapshot', 'contributions_old')
        op.alter_column('score_snapshot', 'contributions', nullable=False)
    else:
        with op.batch_alter_table('score_snapshot', schema=None) as batch_op:
            batch_op.create_foreign_key(batch_op.f('fk_score_snapshot_rule_set_id_rule_set'), 'rule_set', ['rule_set_id'], ['id'], ondelete='RESTRICT')
            batch_op.create_foreign_key(batch_op.f('fk_score_snapshot_organization_id_organization'), 'organization', ['organization_id'], ['id'], ondelete='CASCADE')
    _convert_back_to_named()

    json_type = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    op.add_column('organization', sa.Column('score', sa.Double(), server_default=sa.text('0'), nullable=False))
    op.add_column('organization', sa.Column('score_explanation', json_type, server_default=sa.text("'[]'"), nullable=False))
    op.add_column('organization', sa.Column('priority', sa.Double(), server_default=sa.text('0'), nullable=False))
    op.add_column('organization', sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE organization SET score = s.score, priority = s.priority, scored_at = s.scored_at "
        "FROM organization_score AS s WHERE s.organization_id = organization.id"
    )
    op.drop_index(op.f('ix_organization_owner_id'), table_name='organization')
    op.create_index(op.f('ix_organization_priority_id'), 'organization', ['priority', 'id'], unique=False)
    op.create_index(op.f('ix_organization_owner_id_priority'), 'organization', ['owner_id', 'priority'], unique=False)

    _remove_score_row_trigger()
    op.drop_index('ix_organization_score_priority', table_name='organization_score')
    op.drop_table('organization_score')


def _convert_back_to_named() -> None:
    bind = op.get_bind()
    rules = _rules_by_set(bind)
    for snap_id, set_id, value in bind.execute(
        sa.text("SELECT id, rule_set_id, contributions FROM score_snapshot")
    ).all():
        value = json.loads(value) if isinstance(value, str) else (value or [])
        if value and isinstance(value[0], dict):
            continue
        names = rules.get(set_id, [])
        named = [
            {"rule": name, "contribution": c}
            for name, c in zip(names, value, strict=False)
            if c
        ]
        cast = "CAST(:v AS jsonb)" if _is_pg() else ":v"
        bind.execute(
            sa.text(f"UPDATE score_snapshot SET contributions = {cast} WHERE id = :id"),
            {"v": json.dumps(named), "id": snap_id},
        )
