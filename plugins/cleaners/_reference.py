"""Reference tables the built-in cleaners share: states (USPS, FIPS, API codes, rough
bounds) and counties (FIPS, from the Census list the ``addfips`` package ships).

Private to ``ogcrm_plugins.cleaners``. Loaded once per process, on first use.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: API state codes (API Bulletin D12A): alphabetical by state name, DC at 08, then the
#: offshore pseudo-states.
API_STATE_TO_USPS: dict[str, str] = {
    f"{i:02d}": usps
    for i, usps in enumerate(
        [
            "AL",
            "AZ",
            "AR",
            "CA",
            "CO",
            "CT",
            "DE",
            "DC",
            "FL",
            "GA",
            "ID",
            "IL",
            "IN",
            "IA",
            "KS",
            "KY",
            "LA",
            "ME",
            "MD",
            "MA",
            "MI",
            "MN",
            "MS",
            "MO",
            "MT",
            "NE",
            "NV",
            "NH",
            "NJ",
            "NM",
            "NY",
            "NC",
            "ND",
            "OH",
            "OK",
            "OR",
            "PA",
            "RI",
            "SC",
            "SD",
            "TN",
            "TX",
            "UT",
            "VT",
            "VA",
            "WA",
            "WV",
            "WI",
            "WY",
            "AK",
            "HI",
        ],
        start=1,
    )
}
#: Offshore areas: Alaska offshore, Pacific, Northern Gulf of Mexico, Atlantic.
API_OFFSHORE = {"55": "AK", "56": None, "60": None, "61": None}
USPS_TO_API_STATE: dict[str, str] = {v: k for k, v in API_STATE_TO_USPS.items()}
VALID_API_STATES = frozenset(API_STATE_TO_USPS) | frozenset(API_OFFSHORE)

#: Rough bounding boxes (lat min, lat max, lon min, lon max), padded by about 0.1°, for
#: the states that publish oil and gas data; a state not listed is not bounds-checked.
STATE_BOUNDS: dict[str, tuple[float, float, float, float]] = {
    "AL": (30.0, 35.2, -88.6, -84.7),
    "AK": (51.1, 71.6, -180.0, -129.8),
    "AZ": (31.2, 37.1, -115.0, -108.9),
    "AR": (32.9, 36.6, -94.8, -89.5),
    "CA": (32.4, 42.1, -124.6, -114.0),
    "CO": (36.9, 41.1, -109.2, -101.9),
    "FL": (24.3, 31.1, -87.8, -79.9),
    "IL": (36.9, 42.6, -91.6, -87.0),
    "IN": (37.7, 41.9, -88.2, -84.7),
    "KS": (36.9, 40.1, -102.2, -94.5),
    "KY": (36.4, 39.2, -89.7, -81.8),
    "LA": (28.8, 33.1, -94.1, -88.7),
    "MI": (41.6, 48.4, -90.5, -82.0),
    "MS": (30.0, 35.1, -91.8, -88.0),
    "MO": (35.9, 40.7, -95.9, -89.0),
    "MT": (44.3, 49.1, -116.1, -103.9),
    "NE": (39.9, 43.1, -104.1, -95.2),
    "NV": (34.9, 42.1, -120.1, -113.9),
    "NM": (31.2, 37.1, -109.1, -102.9),
    "NY": (40.4, 45.1, -79.9, -71.7),
    "ND": (45.9, 49.1, -104.1, -96.5),
    "OH": (38.3, 42.4, -84.9, -80.4),
    "OK": (33.6, 37.1, -103.1, -94.4),
    "PA": (39.7, 42.4, -80.6, -74.6),
    "SD": (42.4, 46.0, -104.1, -96.4),
    "TN": (34.9, 36.7, -90.4, -81.6),
    "TX": (25.8, 36.6, -106.7, -93.5),
    "UT": (36.9, 42.1, -114.1, -108.9),
    "VA": (36.5, 39.5, -83.7, -75.2),
    "WV": (37.2, 40.7, -82.7, -77.7),
    "WY": (40.9, 45.1, -111.1, -104.0),
}
#: Where a US onshore or offshore well can be at all.
US_BOUNDS = (17.0, 72.0, -180.0, -64.0)

_COUNTY_SUFFIX = re.compile(
    r"\s+(COUNTY|PARISH|BOROUGH|CENSUS AREA|CITY AND BOROUGH|MUNICIPALITY)$", re.IGNORECASE
)
_NON_WORD = re.compile(r"[^A-Z0-9 ]+")


def county_key(name: str) -> str:
    """A county name as compared: upper case, no suffix, ``SAINT``/``ST.`` as ``ST``."""
    key = name.upper().replace("Ñ", "N").replace("-", " ")
    key = _NON_WORD.sub("", key)
    key = re.sub(r"\s+", " ", key).strip()
    key = _COUNTY_SUFFIX.sub("", key)
    return re.sub(r"^SAINT ", "ST ", key)


@dataclass(frozen=True)
class States:
    usps_by_key: dict[str, str]  # "TEXAS", "TX", "48" -> "TX"
    fips_by_usps: dict[str, str]
    name_by_usps: dict[str, str]


@cache
def states() -> States:
    usps_by_key: dict[str, str] = {}
    fips_by_usps: dict[str, str] = {}
    name_by_usps: dict[str, str] = {}
    with resources.files("addfips").joinpath("data/states.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            usps, fips, name = row["postal"], row["fips"], row["name"]
            fips_by_usps[usps] = fips
            name_by_usps[usps] = name
            for key in (usps, name.upper(), fips):
                usps_by_key[key] = usps
    return States(usps_by_key, fips_by_usps, name_by_usps)


@dataclass(frozen=True)
class County:
    fips: str  # 5 digits: state + county
    name: str


@cache
def counties() -> dict[str, dict[str, County]]:
    """USPS -> county key -> county, and USPS -> 3-digit code -> county."""
    by_state: dict[str, dict[str, County]] = {}
    usps_by_fips = {v: k for k, v in states().fips_by_usps.items()}
    path = resources.files("addfips").joinpath("data/counties_2020.csv")
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            usps = usps_by_fips.get(row["statefp"])
            if usps is None:
                continue
            name = _COUNTY_SUFFIX.sub("", row["name"].strip())
            county = County(row["statefp"] + row["countyfp"], name)
            table = by_state.setdefault(usps, {})
            table[county_key(row["name"])] = county
            table[row["countyfp"]] = county
    return by_state


def county_by_abbreviation(usps: str, abbreviation: str) -> County | None:
    """A county from an agency's short code (North Dakota's ``MCK``, ``MTL``): the one
    county whose name starts with the code's first letter and holds its letters in
    order. Ambiguous or unknown codes give None."""
    code = abbreviation.upper()
    names = {c.fips: c for k, c in counties().get(usps, {}).items() if not k.isdigit()}
    hits = [c for c in names.values() if _is_subsequence(code, county_key(c.name))]
    prefix = [c for c in hits if county_key(c.name).startswith(code)]
    if len(prefix) == 1:
        return prefix[0]
    return hits[0] if len(hits) == 1 else None


def _is_subsequence(code: str, name: str) -> bool:
    if not code or not name.startswith(code[0]):
        return False
    it = iter(name)
    return all(ch in it for ch in code)
