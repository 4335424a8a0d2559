"""SQLite rebuilds a table to change a column or a check: migrations run with foreign
keys off (and checked at the end), so rebuilding a parent never runs its ON DELETE
actions on the rows that point at it. Before, a downgrade past the sales modules
rebuilt ``orders`` and deleted every order line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from ogcrm.db import migrate
from ogcrm.db.session import create_db_engine


def test_rebuilding_a_parent_table_keeps_its_children(tmp_path: Path, database_url: str):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite rebuilds tables; PostgreSQL alters them in place")
    engine = create_db_engine(f"sqlite:///{tmp_path / 'rebuild.db'}")
    migrate.upgrade(engine)
    now = "CURRENT_TIMESTAMP"
    with engine.begin() as c:
        c.execute(text("INSERT INTO organization (id, name, normalized_name, aliases, status, "
                       f"country, created_at, updated_at) VALUES (1, 'A', 'A', '[]', 'prospect', 'US', {now}, {now})"))  # fmt: skip
        c.execute(text("INSERT INTO product (id, sku, name, description, unit, unit_price, active, "
                       f"created_at, updated_at) VALUES (1, 'S', 'Sand', '', 't', 1, 1, {now}, {now})"))  # fmt: skip
        c.execute(text("INSERT INTO orders (id, number, organization_id, status, currency, created_at, "
                       f"updated_at) VALUES (1, 'O-1', 1, 'draft', 'USD', {now}, {now})"))  # fmt: skip
        c.execute(text("INSERT INTO order_line (order_id, product_id, quantity, unit_price) "
                       "VALUES (1, 1, 2, 3)"))  # fmt: skip
    migrate.downgrade(engine, "5a8e3f1c9d42")  # rebuilds orders (and the tables after it)
    migrate.upgrade(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM order_line")).scalar() == 1
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1  # on again afterwards
    engine.dispose()
