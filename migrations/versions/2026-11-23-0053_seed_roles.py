"""Seed the five built-in roles.

Their per-entity permissions are granted by the authorization revision; here they only
exist, so that `ogcrm user create --role R` works on a fresh installation.

Revision ID: 5080d387b7a5
Revises: 08b9023d17f9
Create Date: 2026-11-23 00:53:35.153390
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5080d387b7a5'
down_revision: str | None = '08b9023d17f9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ROLES = (
    ("admin", "Manages users, roles, sources and rule activation."),
    ("manager", "Reads everything, reassigns accounts, adjusts priorities by hand."),
    ("analyst", "Imports and reviews datasets; edits draft rules."),
    ("sales", "Works the accounts they own."),
    ("viewer", "Reads what they are allowed to; changes nothing."),
)


def upgrade() -> None:
    role = sa.table(
        "role",
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = sa.func.current_timestamp()
    for name, description in ROLES:
        op.execute(
            role.insert().values(name=name, description=description, created_at=now, updated_at=now)
        )


def downgrade() -> None:
    names = ", ".join(f"'{name}'" for name, _ in ROLES)
    op.execute(f"DELETE FROM role WHERE name IN ({names})")
