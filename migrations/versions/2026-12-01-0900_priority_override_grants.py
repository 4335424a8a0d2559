"""The ``priority_override`` grant: pinning an account's priority by hand.

Managers and admins get it for every account (read and write ``all``); other roles get
none, and an admin can grant a sales role ``own`` (their own accounts only) with
``setRoleGrant``. Data only: no table changes.

Revision ID: 3c1f2a9e5b70
Revises: 7d83fc6f749d
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c1f2a9e5b70"
down_revision: str | None = "7d83fc6f749d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND = "priority_override"
ROLES = ("admin", "manager")


def upgrade() -> None:
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
        {"role_id": role_ids[role], "entity": KIND, "action": action, "scope": "all"}
        for role in ROLES
        if role in role_ids
        for action in ("read", "write")
    ]
    if rows:
        op.bulk_insert(grant, rows)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM role_permission WHERE entity = :kind").bindparams(kind=KIND))
