"""Dataset references without foreign keys; datasets never deleted; cell issues
append-only; a partial index for the staged rows that need attention.

The tables an import fills by the million (staged rows, cell issues, change records,
wells, permits, production) point at their dataset without a foreign key: the key check
per row was the largest cost the database paid for an import. What the keys guaranteed
comes from triggers instead: a dataset can no longer be deleted (nor the table
truncated), so no reference can dangle. Cell issues join change records and the audit
log as append-only history.

On SQLite a foreign key can only go with a table rebuild (batch mode), which drops the
table's triggers: change_record's are put back after it.

Revision ID: 8d7ebd109fa4
Revises: 20d5694df5c7
Create Date: 2026-11-23 18:24:58.198971
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8d7ebd109fa4'
down_revision: str | None = '20d5694df5c7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


HISTORY = ("change_record", "cell_issue")


def _install_triggers(tables: Sequence[str]) -> None:
    """Append-only triggers (as the auth revision installs them for its tables)."""
    for table in tables:
        if _is_pg():
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ogcrm_refuse_history_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ogcrm_refuse_history_change()"
            )
            continue
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} refused'); END"
            )


def _drop_triggers(tables: Sequence[str]) -> None:
    for table in tables:
        if _is_pg():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def _keep_datasets() -> None:
    if _is_pg():
        op.execute(
            """
            CREATE FUNCTION ogcrm_refuse_dataset_delete() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'datasets are never deleted: % refused', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER dataset_never_deleted BEFORE DELETE ON dataset "
            "FOR EACH ROW EXECUTE FUNCTION ogcrm_refuse_dataset_delete()"
        )
        op.execute(
            "CREATE TRIGGER dataset_no_truncate BEFORE TRUNCATE ON dataset "
            "FOR EACH STATEMENT EXECUTE FUNCTION ogcrm_refuse_dataset_delete()"
        )
    else:
        op.execute(
            "CREATE TRIGGER dataset_never_deleted BEFORE DELETE ON dataset "
            "BEGIN SELECT RAISE(ABORT, 'datasets are never deleted: DELETE refused'); END"
        )


def _allow_dataset_delete() -> None:
    if _is_pg():
        op.execute("DROP TRIGGER IF EXISTS dataset_never_deleted ON dataset")
        op.execute("DROP TRIGGER IF EXISTS dataset_no_truncate ON dataset")
        op.execute("DROP FUNCTION IF EXISTS ogcrm_refuse_dataset_delete()")
    else:
        op.execute("DROP TRIGGER IF EXISTS dataset_never_deleted")


def upgrade() -> None:
    _drop_triggers(["change_record"])  # SQLite's rebuild would lose them; put back below
    with op.batch_alter_table('cell_issue', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cell_issue_dataset_id_dataset'), type_='foreignkey')

    with op.batch_alter_table('change_record', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_change_record_dataset_id_dataset'), type_='foreignkey')

    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_permit_dataset_id_dataset'), type_='foreignkey')

    with op.batch_alter_table('production_report', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_production_report_dataset_id_dataset'), type_='foreignkey')

    with op.batch_alter_table('staged_row', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staged_row_dataset_id_outcome_row_number'))
        batch_op.create_index('ix_staged_row_attention', ['dataset_id', 'outcome', 'row_number'], unique=False, postgresql_where=sa.text("outcome <> 'clean'"), sqlite_where=sa.text("outcome <> 'clean'"))
        batch_op.drop_constraint(batch_op.f('fk_staged_row_dataset_id_dataset'), type_='foreignkey')

    with op.batch_alter_table('well', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_well_dataset_id_dataset'), type_='foreignkey')

    _install_triggers(HISTORY)
    _keep_datasets()


def downgrade() -> None:
    _allow_dataset_delete()
    _drop_triggers(HISTORY)
    with op.batch_alter_table('well', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_well_dataset_id_dataset'), 'dataset', ['dataset_id'], ['id'])

    with op.batch_alter_table('staged_row', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_staged_row_dataset_id_dataset'), 'dataset', ['dataset_id'], ['id'], ondelete='RESTRICT')
        batch_op.drop_index('ix_staged_row_attention', postgresql_where=sa.text("outcome <> 'clean'"), sqlite_where=sa.text("outcome <> 'clean'"))
        batch_op.create_index(batch_op.f('ix_staged_row_dataset_id_outcome_row_number'), ['dataset_id', 'outcome', 'row_number'], unique=False)

    with op.batch_alter_table('production_report', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_production_report_dataset_id_dataset'), 'dataset', ['dataset_id'], ['id'])

    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_permit_dataset_id_dataset'), 'dataset', ['dataset_id'], ['id'])

    with op.batch_alter_table('change_record', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_change_record_dataset_id_dataset'), 'dataset', ['dataset_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('cell_issue', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_cell_issue_dataset_id_dataset'), 'dataset', ['dataset_id'], ['id'], ondelete='RESTRICT')

    _install_triggers(["change_record"])
