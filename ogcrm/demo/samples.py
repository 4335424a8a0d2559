"""The demo's sample files, generated here: four agency layouts in four formats, with
the dirt real agency files have.

Pure (no database) and deterministic for a given day: the operators, their permits,
wells and production are made up from fixed lists and a seeded generator, dated back
from ``today`` so that "permits in the last 30 days" and "production growth" mean
something whenever the demo runs. The real agency files in the test data are never
copied here: they are for tests.

What each file carries, and the dirt in it:

- ``tx-permits.dat``: Texas RRC drilling permits in the daf420 fixed-width layout.
  Operator names as RRC writes them (capitals, cut at 32 characters, ``L.L.C.``).
- ``co-wells.csv``: a Colorado ECMC well list. API numbers in five shapes, spud dates
  in three forms, a row with fields missing (ragged), an exact duplicate row, and one
  well whose latitude and longitude are swapped.
- ``nd-production.xlsx``: North Dakota DMR monthly production. Company names with other
  punctuation, one exact duplicate row, and one operator spelled with a district suffix
  (``... WILLISTON``), which the matcher asks a person about.
- ``operators.xml``: an operator directory (the BOEM company directory's columns):
  legal names and mailing addresses, one company listed twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import xlsxwriter


@dataclass(frozen=True)
class Operator:
    """A made-up operator: its legal name, where it is based and what it does."""

    name: str
    number: str  # its company number in the directory
    rrc: str  # its RRC operator (P-5) number, for its Texas permits
    street: str
    city: str
    state: str
    zip: str
    #: Texas drilling: "fresh" (permits this month), "steady" (all year), "fading"
    #: (none for half a year) or "" (none).
    permits: str = ""
    #: Colorado wells operated.
    co_wells: int = 0
    #: North Dakota production: "big", "growing", "declining" or "".
    production: str = ""


OPERATORS: tuple[Operator, ...] = (
    Operator("Caprock Energy Partners LLC", "90011", "130411", "500 W Texas Ave", "Midland",
             "TX", "79701", permits="fresh", production="big"),
    Operator("Red Mesa Operating Inc.", "90012", "697302", "300 N Marienfeld St", "Midland",
             "TX", "79701", permits="steady"),
    Operator("Pecos River Resources LP", "90013", "651877", "1600 Smith St", "Houston", "TX",
             "77002", permits="fresh"),
    Operator("Lone Star Petroleum Co.", "90014", "507990", "2001 Ross Ave", "Dallas", "TX",
             "75201", permits="fading"),
    Operator("Llano Exploration LLC", "90015", "504711", "110 W 7th St", "Fort Worth", "TX",
             "76102", permits="steady", co_wells=6),
    Operator("High Plains Oil & Gas Corp.", "90016", "385504", "1700 Lincoln St", "Denver",
             "CO", "80203", co_wells=22, production="growing"),
    Operator("Bluestem Production LLC", "90017", "077204", "1099 18th St", "Denver", "CO",
             "80202", co_wells=14),
    Operator("Cedar Midstream Inc.", "90018", "141009", "370 17th St", "Denver", "CO",
             "80202", co_wells=5),
    Operator("Sandhill Resources LLC", "90019", "748220", "1 Main St", "Williston", "ND",
             "58801", production="growing"),
    Operator("Prairie Energy Inc.", "90020", "675531", "400 E Broadway Ave", "Bismarck",
             "ND", "58501", production="declining"),
    Operator("Eagle Canyon Petroleum LP", "90021", "238116", "700 Louisiana St", "Houston",
             "TX", "77002", permits="steady", production="big"),
    Operator("Mesa Verde Operating LLC", "90022", "561403", "1225 17th St", "Denver", "CO",
             "80202", permits="fading", co_wells=9),
)  # fmt: skip

#: Texas counties (FIPS county part) the permits are in: Permian and Eagle Ford.
_TX_COUNTIES = ("389", "329", "317", "301", "475", "255")
_TX_CENTER = {"389": (31.42, -103.49), "329": (31.87, -102.03), "317": (32.30, -101.95),
              "301": (31.85, -103.58), "475": (31.51, -103.10), "255": (28.91, -97.86)}  # fmt: skip
_CO_COUNTIES = (("123", 40.45, -104.55), ("045", 39.59, -107.90), ("001", 39.87, -104.33))
_ND_COUNTIES = (("MCKENZIE", "053", 47.74, -103.39), ("WILLIAMS", "105", 48.34, -103.48),
                ("MOUNTRAIL", "061", 48.20, -102.36), ("DUNN", "025", 47.35, -102.62))  # fmt: skip
_LEASES = ("STATE", "UNIVERSITY", "HALE", "ORTIZ RANCH", "BISHOP", "CARVER", "DELGADO",
           "FISCHER TRUST", "GRANT", "MESQUITE", "COYOTE", "WINDMILL")  # fmt: skip


@dataclass(frozen=True)
class SampleFile:
    path: Path
    title: str
    #: The dirt put in it on purpose, for the summary.
    dirt: tuple[str, ...]


def _months_back(today: dt.date, n: int) -> dt.date:
    month = today.month - n
    year = today.year + (month - 1) // 12
    return dt.date(year, (month - 1) % 12 + 1, 1)


def rrc_name(name: str) -> str:
    """A name as RRC's permit records spell it: capitals, ``L.L.C.``, 32 characters."""
    upper = name.upper().replace(" LLC", ", L.L.C.").replace(" INC.", " INC")
    return upper[:32]


def _put(line: list[str], start: int, text: str, length: int) -> None:
    """Write ``text`` at 1-based column ``start``, padded or cut to ``length``."""
    line[start - 1 : start - 1 + length] = list(text.ljust(length)[:length])


def _record(record_type: str, width: int) -> list[str]:
    line = [" "] * width
    _put(line, 1, record_type, 2)
    return line


def write_permits(path: Path, today: dt.date, rng: random.Random) -> SampleFile:
    """RRC daf420 records: a 01 root (operator, lease, dates), a 02 (API number) and a
    14 (surface location) per permit."""
    ages = {"fresh": (0, 28), "steady": (0, 360), "fading": (190, 360)}
    counts = {"fresh": 9, "steady": 7, "fading": 5}
    lines: list[str] = []
    number = 912000
    for op in OPERATORS:
        if not op.permits:
            continue
        lo, hi = ages[op.permits]
        for k in range(counts[op.permits]):
            number += 1
            county = rng.choice(_TX_COUNTIES)
            issued = today - dt.timedelta(days=rng.randint(lo, hi))
            received = issued - dt.timedelta(days=rng.randint(3, 20))
            root = _record("01", 130)
            _put(root, 3, f"{number:07d}", 7)
            _put(root, 12, county, 3)
            _put(root, 15, f"{rng.choice(_LEASES)} {k + 1}", 32)
            _put(root, 49, op.rrc, 6)
            _put(root, 59, received.strftime("%Y%m%d"), 8)
            _put(root, 67, rrc_name(op.name), 32)
            _put(root, 113, f"{number:07d}", 7)
            _put(root, 120, issued.strftime("%Y%m%d"), 8)
            api = _record("02", 520)
            _put(api, 503, f"{county}{number % 100000:05d}", 8)
            lat, lon = _TX_CENTER[county]
            spot = _record("14", 40)
            _put(spot, 3, f"{lon + rng.uniform(-0.2, 0.2):.6f}", 12)
            _put(spot, 15, f"{lat + rng.uniform(-0.2, 0.2):.6f}", 12)
            lines += ["".join(root), "".join(api), "".join(spot)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return SampleFile(
        path,
        "Texas RRC drilling permits (fixed-width, daf420)",
        ("operator names in capitals, cut at 32 characters, 'L.L.C.'",),
    )


_CO_HEADER = ["API", "Operator", "Operat_Num", "Loc_Name", "Facil_Stat", "Well_Class",
              "Spud_Date", "MD", "lat_shl", "long_shl", "lat_bhl", "long_bhl"]  # fmt: skip


def _co_api(county: str, sequence: int, shape: int) -> str:
    """One Colorado API number in one of the five shapes the state's files use."""
    return (
        f"05-{county}-{sequence:05d}",
        f"05{county}{sequence:05d}",
        f"{county}-{sequence:05d}",
        f"05-{county}-{sequence:05d}-00",
        f"{int(county)}{sequence:05d}",  # county without its leading zeros
    )[shape % 5]


def write_wells(path: Path, today: dt.date, rng: random.Random) -> SampleFile:
    rows: list[list[str]] = []
    sequence = 61000
    for n, op in enumerate(o for o in OPERATORS if o.co_wells):
        for k in range(op.co_wells):
            sequence += 7
            county, lat, lon = _CO_COUNTIES[(n + k) % len(_CO_COUNTIES)]
            spud = today - dt.timedelta(days=rng.randint(60, 3000))
            date = (spud.isoformat(), f"{spud.month}/{spud.day}/{spud.year}",
                    spud.strftime("%d-%b-%Y"))[k % 3]  # fmt: skip
            status = "PA" if k % 6 == 5 else rng.choice(("PR", "PR", "PR", "SI", "DG"))
            shl = (lat + rng.uniform(-0.3, 0.3), lon + rng.uniform(-0.3, 0.3))
            name = op.name if k % 2 else op.name.replace(" LLC", ", LLC").replace(".", "")
            rows.append([
                _co_api(county, sequence, k), name, op.number[-4:] + "0",
                f"{rng.choice(_LEASES).title()} {k + 1}-{n}H", status, "OW", date,
                str(rng.randint(7000, 19000)), f"{shl[0]:.6f}", f"{shl[1]:.6f}",
                f"{shl[0] + 0.01:.6f}", f"{shl[1] + 0.02:.6f}",
            ])  # fmt: skip
    rows[3][8], rows[3][9] = rows[3][9], rows[3][8]  # latitude and longitude swapped
    rows.insert(12, list(rows[11]))  # an exact duplicate
    ragged = rows[20][:4]  # a row cut short: four fields of twelve
    rows.insert(20, ragged)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(_CO_HEADER)
        writer.writerows(rows)
    return SampleFile(
        path,
        "Colorado ECMC well list (CSV)",
        (
            "API numbers in five shapes",
            "spud dates in three forms",
            "a ragged row (4 fields of 12)",
            "an exact duplicate row",
            "a well with latitude and longitude swapped",
        ),
    )


_ND_HEADER = ["ReportDate", "API_WELLNO", "Company", "WellName", "County", "FieldName",
              "Pool", "Oil", "Wtr", "Days", "Gas", "Lat", "Long"]  # fmt: skip
#: The candidate a person decides on: the directory's "Sandhill Resources LLC" as
#: North Dakota's files name one of its districts.
CANDIDATE_NAME = "SANDHILL RESOURCES WILLISTON"


def write_production(path: Path, today: dt.date, rng: random.Random) -> SampleFile:
    months = [_months_back(today, n) for n in range(14, 0, -1)]  # oldest first
    start = {"big": 9000.0, "growing": 1500.0, "declining": 4000.0}
    step = {"big": 1.0, "growing": 1.12, "declining": 0.9}
    rows: list[list[object]] = []
    sequence = 40100
    for n, op in enumerate(o for o in OPERATORS if o.production):
        wells = 6 if op.production == "big" else 3
        for w in range(wells):
            sequence += 13
            county, code, lat, lon = _ND_COUNTIES[(n + w) % len(_ND_COUNTIES)]
            api = int(f"33{code}{sequence:05d}0000")
            company = op.name.upper().replace(" LLC", ", LLC").replace(" INC.", " INC")
            if op.name.startswith("Sandhill") and w == 0:
                company = CANDIDATE_NAME
            oil = start[op.production] * rng.uniform(0.7, 1.3)
            for month in months:
                oil *= step[op.production] * rng.uniform(0.95, 1.05)
                rows.append([
                    dt.datetime(month.year, month.month, 1), api, company,
                    f"{rng.choice(_LEASES)} {w + 1}-{n}H", county if w % 2 else county.title(),
                    "BAKKEN FIELD", "BAKKEN",
                    round(oil), round(oil * 1.8), rng.randint(26, 31), round(oil * 1.4),
                    round(lat + w * 0.01, 6), round(lon - w * 0.01, 6),
                ])  # fmt: skip
    rows.insert(30, list(rows[29]))  # an exact duplicate
    book = xlsxwriter.Workbook(str(path))
    # dated by the demo's day, not the clock: the same day writes the same bytes
    book.set_properties({"created": dt.datetime.combine(today, dt.time())})
    sheet = book.add_worksheet("Production")
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, _ND_HEADER)
    for r, row in enumerate(rows, start=1):
        sheet.write_datetime(r, 0, row[0], dates)
        sheet.write_row(r, 1, row[1:])
    book.close()
    return SampleFile(
        path,
        "North Dakota DMR monthly production (XLSX)",
        (
            "company names with other punctuation",
            f"one operator named with its district ({CANDIDATE_NAME!r})",
            "an exact duplicate row",
        ),
    )


def write_directory(path: Path) -> SampleFile:
    companies = [*OPERATORS, OPERATORS[2]]  # one company listed twice
    fields = ("MMS_COMPANY_NUM", "BUS_ASC_NAME", "LINE_1_ADDRESS", "CITY_NAME",
              "POSTAL_ST_CODE", "ZIP_CODE")  # fmt: skip
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<companies>"]
    for op in companies:
        values = (op.number, op.name, op.street, op.city, op.state, op.zip)
        inner = "".join(f"<{f}>{escape(v)}</{f}>" for f, v in zip(fields, values, strict=True))
        parts.append(f"  <company>{inner}</company>")
    parts.append("</companies>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return SampleFile(
        path,
        "Operator directory (XML, the BOEM company directory's columns)",
        ("one company listed twice",),
    )


def write_samples(directory: Path, *, today: dt.date, seed: int = 7) -> list[SampleFile]:
    """Write the four sample files into ``directory``, in the order the demo imports
    them: permits and wells first, so the accounts they create are routed by where they
    work; the directory, which completes their addresses and adds the companies known
    only by name; then production, whose district spelling of a directory company is
    the match a person decides on."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)  # noqa: S311 (made-up demo data, not secrets)
    return [
        write_permits(directory / "tx-permits.dat", today, rng),
        write_wells(directory / "co-wells.csv", today, rng),
        write_directory(directory / "operators.xml"),
        write_production(directory / "nd-production.xlsx", today, rng),
    ]
