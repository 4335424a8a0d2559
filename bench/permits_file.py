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
    return _depths_coordinates_duplicates(df)


#: Texas counties with their Census FIPS code (the code's last three digits are the
#: county part of an API number), for the messy file.
_TX_COUNTIES = {
    "ANDREWS": "003",
    "MIDLAND": "329",
    "REEVES": "389",
    "LOVING": "301",
    "WARD": "475",
    "HOWARD": "227",
    "MARTIN": "317",
}


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def generate_messy(path: Path, rows: int) -> None:
    """A permits file where most rows need a correction, as agency files are at worst:
    one date column in five forms, counties in three cases or as codes (one in twenty
    disagreeing with the API number's county), API numbers in five shapes with 15%
    invalid, operator names spelled three ways, thousands separators and null codes in
    depths, swapped coordinates, and 1% exact duplicate rows."""
    rng = random.Random(7)
    counties = list(_TX_COUNTIES)
    operators = [f"OPERATOR {i} {s}" for i in range(400) for s in ("LLC", "INC.", "L.P.")]
    numbers = {name: f"{100000 + k * 7:06d}" for k, name in enumerate(operators)}
    last = ""
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(rows):
            if last and rng.random() < 0.01:
                fh.write(last)  # an exact duplicate
                continue
            county = rng.choice(counties)
            code = _TX_COUNTIES[county]
            well = f"{rng.randint(0, 99999):05d}"
            shape = rng.randrange(5)
            if rng.random() < 0.15:  # invalid: an unknown state, or digits lost
                api = rng.choice([f"99-{code}-{well}", f"42-{code}-{well[:3]}", f"4{code}{well}X"])
            elif shape == 0:
                api = f"42-{code}-{well}"
            elif shape == 1:
                api = f"42{code}{well}"
            elif shape == 2:
                api = f"42{code}{well}0000"
            elif shape == 3:
                api = f"{code}{well}"  # Texas' county + well, 8 digits
            else:
                api = f"42{code}{well}.0"  # read from a spreadsheet as a number
            shown = rng.random()
            if shown < 0.05:
                county_field = _TX_COUNTIES[rng.choice(counties)]  # a code, maybe not the API's
            elif shown < 0.2:
                county_field = code
            elif shown < 0.5:
                county_field = county.title()
            elif shown < 0.6:
                county_field = county.lower()
            else:
                county_field = county
            month, day = rng.randint(1, 12), rng.randint(1, 28)
            date = rng.choice(
                [
                    f"2025{month:02d}{day:02d}",
                    f"{month}/{day}/2025",
                    f"2025-{month:02d}-{day:02d}",
                    f"{day:02d}-{_MONTHS[month - 1]}-2025",
                    f"{month:02d}/{day:02d}/25",
                ]
            )
            base = rng.choice(operators)
            name = rng.choice(
                [base, base.title(), base.replace(" ", "  ", 1), base.replace(".", "")]
            )
            depth = str(rng.randint(3000, 21000))
            depth = rng.choice(
                [depth, f"{int(depth) // 1000},{int(depth) % 1000:03d}", "NULL", depth]
            )
            lat, lon = f"{rng.uniform(31, 33):.7f}", f"{rng.uniform(-104, -101):.7f}"
            if rng.random() < 0.05:
                lat, lon = lon, lat
            last = (
                f'{900000 + i},{api},{numbers[base]},"{name}",{county_field},'
                f'"LEASE {rng.randint(1, 5000)} UNIT",{date},"{depth}",{lat},{lon}\n'
            )
            fh.write(last)


def pandas_clean_messy(df):
    """The hand-written script for the messy file: strip, null codes, operator name key,
    API digits (8-digit Texas form, Excel's trailing .0), county names from codes,
    dates with ``format="mixed"``, depths, swapped coordinates, duplicates dropped; no
    record of any change."""
    import numpy as np
    import pandas as pd

    for c in df.columns:
        df[c] = df[c].str.strip().str.replace(r"\s+", " ", regex=True)
    df = df.replace({"NULL": None, "N/A": None, "NA": None, "": None})
    digits = df["api"].str.replace(r"\.0$", "", regex=True).str.replace(r"\D", "", regex=True)
    digits = np.where(digits.str.len() == 8, "42" + digits, digits.str[:10])
    df["api10"] = np.where(pd.Series(digits).str.match(r"^42\d{8}$"), digits, None)
    key = df["operator_name"].str.upper().str.replace(r"[^0-9A-Z]+", " ", regex=True).str.strip()
    df["operator_name_key"] = key.str.replace(
        r"\s+(INC|LLC|L P|LP|CORP|CO|COMPANY)$", "", regex=True
    )
    by_code = {code: name for name, code in _TX_COUNTIES.items()}
    county = df["county"].str.upper()
    df["county"] = county.map(by_code).fillna(county)
    df["issued_date"] = pd.to_datetime(
        df["issued_date"], format="mixed", errors="coerce"
    ).dt.strftime("%Y-%m-%d")
    return _depths_coordinates_duplicates(df)


def _depths_coordinates_duplicates(df):
    """The end both hand-written scripts share: depths as numbers, swapped pairs put
    back, exact duplicates dropped."""
    import numpy as np
    import pandas as pd

    df["total_depth"] = pd.to_numeric(df["total_depth"].str.replace(",", ""), errors="coerce")
    lat = pd.to_numeric(df["latitude"], errors="coerce")
    lon = pd.to_numeric(df["longitude"], errors="coerce")
    swap = lat < 0
    df["latitude"], df["longitude"] = np.where(swap, lon, lat), np.where(swap, lat, lon)
    return df.drop_duplicates()
