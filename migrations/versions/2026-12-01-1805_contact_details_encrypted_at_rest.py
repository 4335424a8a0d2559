"""Contact e-mails and phones (and the address an outbound message went to) can be
encrypted at rest: the columns widen to hold ciphertext, their checks accept an
encrypted value (``enc:v1:...``), and each contact point gets a blind index column
(``address_index``, ``number_index``) for exact lookups. Nothing is encrypted here:
``ogcrm keys rotate`` encrypts what is stored once ``OGCRM_ENCRYPTION_KEY`` is set.

On SQLite the three tables are rebuilt (it cannot alter a column or a check); the
runner keeps foreign keys off meanwhile, since dropping ``outbound_message`` with them
on would clear every campaign member's link to its message.

Revision ID: 5a88ac439349
Revises: 43e36bb028fa
Create Date: 2026-12-01 18:05:36.332124
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5a88ac439349'
down_revision: str | None = '43e36bb028fa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK = 'enc:v1:'
EMAIL_CHECK = 'ck_contact_email_address_has_at'
PHONE_CHECK = 'ck_contact_phone_number_e164'
#: A rebuilt SQLite table is made from its reflection, which does not carry AUTOINCREMENT
#: (revision 43e36bb028fa): it is asked for again.
KEEP = {'sqlite_autoincrement': True}


def _checks(email: str, phone: str) -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, name, condition in (('contact_email', EMAIL_CHECK, email),
                                   ('contact_phone', PHONE_CHECK, phone)):
        if sqlite:
            with op.batch_alter_table(table, recreate='always', table_kwargs=KEEP) as batch_op:
                batch_op.drop_constraint(op.f(name), type_='check')
                batch_op.create_check_constraint(name.removeprefix(f'ck_{table}_'), condition)
        else:
            op.drop_constraint(op.f(name), table, type_='check')
            op.create_check_constraint(name.removeprefix(f'ck_{table}_'), table, condition)


def _upgrade() -> None:
    with op.batch_alter_table('contact_email', table_kwargs=KEEP) as batch_op:
        batch_op.add_column(sa.Column('address_index', sa.String(length=64), nullable=True))
        batch_op.alter_column('address',
               existing_type=sa.VARCHAR(length=320),
               type_=sa.String(length=1024),
               existing_nullable=False)
        batch_op.create_index(batch_op.f('ix_contact_email_address_index'), ['address_index'], unique=False)

    with op.batch_alter_table('contact_phone', table_kwargs=KEEP) as batch_op:
        batch_op.add_column(sa.Column('number_index', sa.String(length=64), nullable=True))
        batch_op.alter_column('number',
               existing_type=sa.VARCHAR(length=20),
               type_=sa.String(length=1024),
               existing_nullable=False)
        batch_op.create_index(batch_op.f('ix_contact_phone_number_index'), ['number_index'], unique=False)

    with op.batch_alter_table('outbound_message', table_kwargs=KEEP) as batch_op:
        batch_op.alter_column('address',
               existing_type=sa.VARCHAR(length=320),
               type_=sa.String(length=1024),
               existing_nullable=True)
    _checks(f"address LIKE '%_@_%' OR address LIKE '{MARK}%'", f"number LIKE '+%' OR number LIKE '{MARK}%'")


def _downgrade() -> None:
    _checks("address LIKE '%_@_%'", "number LIKE '+%'")
    with op.batch_alter_table('outbound_message', table_kwargs=KEEP) as batch_op:
        batch_op.alter_column('address',
               existing_type=sa.String(length=1024),
               type_=sa.VARCHAR(length=320),
               existing_nullable=True)

    with op.batch_alter_table('contact_phone', table_kwargs=KEEP) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_phone_number_index'))
        batch_op.alter_column('number',
               existing_type=sa.String(length=1024),
               type_=sa.VARCHAR(length=20),
               existing_nullable=False)
        batch_op.drop_column('number_index')

    with op.batch_alter_table('contact_email', table_kwargs=KEEP) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_email_address_index'))
        batch_op.alter_column('address',
               existing_type=sa.String(length=1024),
               type_=sa.VARCHAR(length=320),
               existing_nullable=False)
        batch_op.drop_column('address_index')


def upgrade() -> None:
    _upgrade()


def downgrade() -> None:
    # encrypted values do not fit the narrower columns: decrypt them first
    # (`ogcrm keys rotate --to-clear`)
    _downgrade()
