"""Auth sessions and refresh tokens, the built-in roles' grants, append-only history.

Grants: a scope (own/team/all) per role, entity kind and action. Absent = no access.
History tables refuse UPDATE and DELETE in the database itself (and TRUNCATE on
PostgreSQL). Note for later revisions: SQLite batch mode rebuilds a table and would drop
its triggers; re-create them after any batch operation on these tables.

Revision ID: 7bcf1cd770ec
Revises: 5080d387b7a5
Create Date: 2026-11-23 01:05:18.555759
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7bcf1cd770ec'
down_revision: str | None = '5080d387b7a5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auth_session',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=64), nullable=True),
    sa.Column('client_addr', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_auth_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_session'))
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_user_id'), ['user_id'], unique=False)

    op.create_table('refresh_token',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['auth_session.id'], name=op.f('fk_refresh_token_session_id_auth_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_refresh_token_token_hash'))
    )
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refresh_token_session_id'), ['session_id'], unique=False)


    _seed_grants()
    _install_append_only()

def downgrade() -> None:
    _remove_append_only()
    op.execute("DELETE FROM role_permission")
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refresh_token_session_id'))

    op.drop_table('refresh_token')
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_user_id'))

    op.drop_table('auth_session')


CRM = ("organization", "contact", "interaction", "task", "opportunity", "order", "service_request")
REGULATORY = ("well", "permit", "production")
KINDS = (
    *CRM, "prospect", "product", "segment", "campaign", *REGULATORY,
    "source", "dataset", "rule_set", "rule_activation", "user", "role", "team", "audit_event",
)

# role -> {kind: (read scope, write scope)}; kinds not listed: no access.
GRANTS: dict[str, dict[str, tuple[str | None, str | None]]] = {
    "admin": {kind: ("all", "all") for kind in KINDS},
    "manager": {
        **{kind: ("all", "all") for kind in (*CRM, "segment", "campaign")},
        **{kind: ("all", None) for kind in (
            "prospect", "product", *REGULATORY, "source", "dataset", "rule_set", "user", "team",
        )},
    },
    "analyst": {
        "organization": ("all", None),
        "prospect": ("all", None),
        "product": ("all", None),
        **{kind: ("all", None) for kind in REGULATORY},
        **{kind: ("all", "all") for kind in ("source", "dataset", "rule_set")},
    },
    "sales": {
        **{kind: ("own", "own") for kind in CRM},
        "prospect": ("all", None),
        **{kind: ("all", None) for kind in ("product", "segment", "campaign", *REGULATORY, "rule_set")},
    },
    "viewer": {
        kind: ("all", None)
        for kind in ("organization", "prospect", "product", *REGULATORY, "rule_set")
    },
}

APPEND_ONLY = ("audit_event", "change_record")


def _seed_grants() -> None:
    conn = op.get_bind()
    role_ids = dict(conn.execute(sa.text("SELECT name, id FROM role")).all())
    grant = sa.table(
        "role_permission",
        sa.column("role_id", sa.Integer),
        sa.column("entity", sa.String),
        sa.column("action", sa.String),
        sa.column("scope", sa.String),
    )
    rows = [
        {"role_id": role_ids[role], "entity": kind, "action": action, "scope": scope}
        for role, kinds in GRANTS.items()
        for kind, scopes in kinds.items()
        for action, scope in zip(("read", "write"), scopes, strict=True)
        if scope is not None
    ]
    op.bulk_insert(grant, rows)


def _install_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ogcrm_refuse_history_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ogcrm_refuse_history_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ogcrm_refuse_history_change()"
            )
        return
    for table in APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} refused'); END"
            )


def _remove_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ogcrm_refuse_history_change()")
        return
    for table in APPEND_ONLY:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
