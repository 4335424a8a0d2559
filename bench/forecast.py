"""Demand-forecast backtests on generated order history with known seasonality.

Five kinds of product, four years of monthly orders each, each kind drawn ``--draws``
times with fresh noise, written into a fresh SQLite database and read back through
``ogcrm.reports.series.demand_forecast`` (the code the API runs). Each kind has its own
season (summer peak, winter peak, none), trend and noise. The last 12 months are held
back; the seasonal model's mean absolute percentage error on them is printed next to
seasonal-naive's (the same month a year earlier), averaged over the draws, with how
many draws the model won.

    python bench/forecast.py [--years 4] [--draws 10] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SUMMER = [0.7, 0.75, 0.9, 1.0, 1.15, 1.3, 1.4, 1.35, 1.1, 0.95, 0.8, 0.7]
WINTER = [1.4, 1.3, 1.1, 0.9, 0.8, 0.7, 0.65, 0.7, 0.85, 1.0, 1.2, 1.35]
FLAT = [1.0] * 12
#: name, season, level, trend per month, noise (relative)
PRODUCTS = [
    ("Frac sand (summer peak, growing)", SUMMER, 400, 6.0, 0.05),
    ("Methanol (winter peak, growing)", WINTER, 200, 2.5, 0.05),
    ("Water hauling (summer peak, flat)", SUMMER, 300, 0.0, 0.05),
    ("Rental tools (no season, growing)", FLAT, 150, 3.0, 0.05),
    ("Chemicals (summer peak, noisy)", SUMMER, 250, 2.0, 0.15),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from ogcrm.auth.principal import system_principal
    from ogcrm.config import Settings
    from ogcrm.db import models as m
    from ogcrm.db.migrate import upgrade
    from ogcrm.db.session import Database, create_db_engine
    from ogcrm.reports.series import demand_forecast

    rng = np.random.default_rng(args.seed)
    today = dt.date(2026, 12, 1)
    months = [(today.year - args.years + (today.month - 1 + k) // 12, (today.month - 1 + k) % 12 + 1)
              for k in range(12 * args.years)]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/forecast.db"
        engine = create_db_engine(url)
        upgrade(engine)
        engine.dispose()
        db = Database(Settings(database_url=url))
        ids = []
        with db.unit_of_work() as s:
            org = m.Organization(name="Bench Operating", normalized_name="BENCH OPERATING")
            s.add(org)
            s.flush()
            for p, (name, season, level, trend, noise) in enumerate(PRODUCTS * args.draws):
                product = m.Product(
                    sku=f"P{p}", name=f"{name} #{p}", unit="unit", unit_price=Decimal(1)
                )
                s.add(product)
                s.flush()
                ids.append((name, product.id))
                for t, (year, month) in enumerate(months):
                    quantity = max(
                        0.0, (level + trend * t) * season[month - 1] * rng.normal(1, noise)
                    )
                    order = m.Order(number=f"{p}-{t}", organization_id=org.id, status="confirmed",
                                    created_at=dt.datetime(year, month, 15, tzinfo=dt.UTC))  # fmt: skip
                    s.add(order)
                    s.flush()
                    s.add(m.OrderLine(order_id=order.id, product_id=product.id,
                                      quantity=Decimal(f"{quantity:.3f}"), unit_price=Decimal(1)))  # fmt: skip
        print(
            f"{len(PRODUCTS)} kinds x {args.draws} draws x {len(months)} months; last 12 held back\n"
        )
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name, *_ in PRODUCTS}
        with db.read() as s:
            for name, product_id in ids:
                found = demand_forecast(
                    s, system_principal("bench"), product_id, months=6, today=today
                )
                b = found.backtest
                assert b is not None and b.mape is not None and b.baseline_mape is not None
                figures[name].append((b.mape, b.baseline_mape))
        print("| product | model MAPE | seasonal-naive MAPE | draws the model won |")
        print("| --- | --- | --- | --- |")
        for name, pairs in figures.items():
            model, naive = (float(np.mean(x)) for x in zip(*pairs, strict=True))
            won = sum(a < b for a, b in pairs)
            print(f"| {name} | {model:.1%} | {naive:.1%} | {won} of {len(pairs)} |")
        print(f"\nmethod: {found.method}\nbaseline: {found.baseline}")
        db.dispose()


if __name__ == "__main__":
    main()
