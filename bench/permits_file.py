"""A generated Texas-style permits CSV shared by the benchmarks (deterministic).

With ``dirty=True`` about one row in fifty carries what real files carry: a ``NULL``
code, a date in another form, a depth with thousands separators, a swapped coordinate
pair, an operator name with a double blank, an 8-digit API.
"""

from __future__ import annotations

import random
from pathlib import Path

HEADER = "permit_number,api,operator_number,operator_name,county,lease_name,issued_date,total_depth,latitude,longitude\n"


def generate(path: Path, rows: int, *, dirty: bool = False) -> None:
    rng = random.Random(42)
    counties = ["ANDREWS", "MIDLAND", "REEVES", "LOVING", "WARD", "HOWARD", "MARTIN"]
    operators = [f"OPERATOR {i} {s}" for i in range(400) for s in ("LLC", "INC.", "L.P.")]
    #: an operator keeps its P-5 number, as in the real files
    numbers = {name: f"{100000 + k * 7:06d}" for k, name in enumerate(operators)}
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(rows):
            api = f"42-{rng.randint(1, 500):03d}-{rng.randint(0, 99999):05d}"
            name = rng.choice(operators)
            month, day = rng.randint(1, 12), rng.randint(1, 28)
            date = f"2025{month:02d}{day:02d}"
            depth = str(rng.randint(3000, 21000))
            lat, lon = f"{rng.uniform(31, 33):.7f}", f"{rng.uniform(-104, -101):.7f}"
            if dirty and i % 50 == 0:
                kind = (i // 50) % 6
                if kind == 0:
                    depth = "NULL"
                elif kind == 1:
                    date = f"{month}/{day}/2025"
                elif kind == 2:
                    depth = f"{int(depth) // 1000},{int(depth) % 1000:03d}"
                elif kind == 3:
                    lat, lon = lon, lat
                elif kind == 4:
                    name = name.replace(" ", "  ", 1)
                else:
                    api = api[3:].replace("-", "")
            fh.write(
                f'{900000 + i},{api},{numbers[name.replace("  ", " ")]},"{name}",'
                f'{rng.choice(counties)},"LEASE {rng.randint(1, 5000)} UNIT",{date},"{depth}",{lat},{lon}\n'
            )


def pandas_clean(df):
    """The obvious hand-written pandas cleaning of these columns, for comparison: the same
    corrections as ogcrm's chain, none of them recorded."""
    import numpy as np
    import pandas as pd

    for c in df.columns:
        df[c] = df[c].str.strip().str.replace(r"\s+", " ", regex=True)
    df = df.replace({"NULL": None, "N/A": None, "NA": None, "": None})
    digits = df["api"].str.replace(r"\D", "", regex=True)
    df["api10"] = np.where(digits.str.len() == 8, "42" + digits, digits.str[:10])
    key = df["operator_name"].str.upper().str.replace(r"[^0-9A-Z]+", " ", regex=True).str.strip()
    df["operator_name_key"] = key.str.replace(
        r"\s+(INC|LLC|L P|LP|CORP|CO|COMPANY)$", "", regex=True
    )
    iso = pd.to_datetime(df["issued_date"], format="%Y%m%d", errors="coerce")
    iso = iso.fillna(pd.to_datetime(df["issued_date"], format="%m/%d/%Y", errors="coerce"))
    df["issued_date"] = iso.dt.strftime("%Y-%m-%d")
    df["total_depth"] = pd.to_numeric(df["total_depth"].str.replace(",", ""), errors="coerce")
    lat = pd.to_numeric(df["latitude"], errors="coerce")
    lon = pd.to_numeric(df["longitude"], errors="coerce")
    swap = lat < 0
    df["latitude"], df["longitude"] = np.where(swap, lon, lat), np.where(swap, lat, lon)
    return df.drop_duplicates()
