"""Build the labelled operator-name pairs used to measure matching quality.

Positives are variants of real operator names taken from the agency files in
``../shared/data/real`` (suffix and case changes, punctuation, ``&``/``AND``, agency
abbreviations, truncation at a field width, a one-letter typo, extra blanks) plus the
cross-agency spellings FORMATS.md lists. Negatives are hard: real names that share their
first word, numbered entities, a region word added (``GOM``), a different legal form
(successor entities such as ``NCX Company, L.L.C.`` / ``NCX Company, Inc.``), and the
documented false friends (``Pennzoil Producing`` / ``Pennzoil Products``).

Deterministic (seeded); writes ``tests/data/operator_pairs.csv``:

    python bench/build_operator_pairs.py
"""

from __future__ import annotations

import csv
import itertools
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"
OUT = ROOT / "tests" / "data" / "operator_pairs.csv"

SOURCES = {
    "tx-rrc-drilling-permits-daf420.dat": "operator_name",
    "oh-odnr-utica-horizontal-wells-2014-07-19.xls": "Operator",
    "ny-dec-oil-gas-annual-production.csv": "Company Name",
    "nd-dmr-monthly-production-2023-05.xlsx": "Company",
    "boem-companies.csv": "BUS_ASC_NAME",
    "co-ecmc-wells-shl-bhl-weld.csv": "Operator",
    "boem-api-well-list.csv": "COMPANY_NAME",
}

KNOWN_SAME = [
    ("XTO ENERGY INC", "XTO ENERGY INC."),
    ("Chevron U.S.A. Inc.", "CHEVRON U. S. A. INC."),
    ("Devon Energy Production Co., L.P.", "DEVON ENERGY PRODUCTION CO, L.P."),
    ("BURLINGTON RESOURCES OIL & GAS COMPANY LP", "BURLINGTON RESOURCES O & G CO LP"),
    ("ANADARKO E&P ONSHORE LLC", "ANADARKO E & P ONSHORE LLC"),
    ("Pioneer Natural Resources USA, Inc.", "PIONEER NATURAL RES. USA, INC."),
    ("Noble Energy, Inc.", "NOBLE ENERGY INC"),
    ("EnerVest Operating, LLC", "ENERVEST OPERATING L"),
    ("Hunt Oil Co.", "HUNT OIL COMPANY"),
    ("Seneca Resources Corporation", "Seneca Resources Corp."),
    ("Permclip Products Corporation", "Permclip Products Corp."),
]
KNOWN_DIFFERENT = [
    ("Pennzoil Producing Company", "Pennzoil Products Co."),
    ("Occidental Petroleum Corporation", "OCCIDENTAL PERMIAN LTD."),
    ("Occidental Petroleum Corporation", "OXY USA INC."),
    ("Hilcorp Energy GOM, LLC", "HILCORP ENERGY COMPANY"),
    ("NCX Company, L.L.C.", "NCX Company, Inc."),
    ("Freeport-McMoRan Oil & Gas Company", "Freeport-McMoRan Oil & Gas LLC"),
    ("Chevron U.S.A. Inc.", "Chevron Phillips Chemical Company LP"),
    ("Apache Corporation", "Apache Shelf Exploration LLC"),
    ("Devon Energy Production Co., L.P.", "Devon Energy Corporation"),
    ("Burlington Resources Oil & Gas Company LP", "Burlington Resources Trading Inc."),
    ("Shell Offshore Inc.", "Shell Oil Company"),
    ("Energy XXI GOM, LLC", "Energy XXI Onshore, LLC"),
]

SUFFIX_SWAPS = [
    (r"\bINC\.?$", "INCORPORATED"),
    (r"\bINCORPORATED$", "INC"),
    (r"\bCORPORATION$", "CORP."),
    (r"\bCORP\.?$", "CORPORATION"),
    (r"\bCOMPANY$", "CO."),
    (r"\bCO\.?$", "COMPANY"),
    (r",? ?LLC$", ", L.L.C."),
    (r",? ?L\.L\.C\.$", " LLC"),
    (r",? ?LP$", ", L.P."),
    (r"\bLTD\.?$", "LIMITED"),
]
ABBREVIATE = [
    ("RESOURCES", "RES."),
    ("PRODUCTION", "PROD."),
    ("OPERATING", "OPER"),
    ("PETROLEUM", "PET."),
    ("EXPLORATION", "EXPL."),
    ("INTERNATIONAL", "INTL"),
    ("MANAGEMENT", "MGMT"),
    ("SERVICES", "SVCS"),
]


def real_names() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from ogcrm.pipeline.detect import read_file
    from ogcrm.plugins import default_registry

    names: set[str] = set()
    for file, column in SOURCES.items():
        for chunk in read_file(REAL / file, default_registry()):
            for value in chunk.frame[column].dropna():
                text = " ".join(str(value).split())
                if len(text) > 5 and text.upper() not in {"NOT APPLICABLE", "UNKNOWN"}:
                    names.add(text)
    return sorted(names)


def variants(name: str, rng: random.Random) -> list[tuple[str, str]]:
    upper = name.upper()
    out: list[tuple[str, str]] = []
    for pattern, repl in SUFFIX_SWAPS:
        if re.search(pattern, upper):
            out.append((re.sub(pattern, repl, upper), "suffix"))
            break
    out.append((name.title() if name.isupper() else upper, "case"))
    stripped = re.sub(r"[.,]", "", name)
    if stripped != name:
        out.append((stripped, "punctuation"))
    if "&" in name:
        out.append((name.replace("&", "AND"), "ampersand"))
    for word, abbr in ABBREVIATE:
        if word in upper:
            out.append((upper.replace(word, abbr), "abbreviation"))
            break
    if re.search(r"\b(LLC|INC|CORPORATION|LIMITED)\.?$", upper) and len(upper) > 21:
        cut = upper[: upper.rfind(" ") + 2]
        out.append((cut, "truncated"))
    words = [w for w in upper.split() if len(w) >= 7 and w.isalpha()]
    if words:
        w = rng.choice(words)
        i = rng.randrange(2, len(w) - 2)
        typo = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        out.append((upper.replace(w, typo, 1), "typo"))
    out.append((upper.replace(" ", "  ", 1), "spacing"))
    return out


def hard_negatives(names: list[str], rng: random.Random) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    by_first: dict[str, list[str]] = defaultdict(list)
    for n in names:
        by_first[re.sub(r"[^A-Z0-9]", "", n.split()[0].upper())].append(n)
    for group in by_first.values():
        distinct = {re.sub(r"[^A-Z]", "", g.upper()): g for g in group}
        group = sorted(distinct.values())
        for a, b in itertools.pairwise(group):
            if not _same_company(a, b):
                out.append((a, b, "same first word"))
    for n in rng.sample(names, 40):
        upper = n.upper()
        base = re.sub(r",?\s*(LLC|INC\.?|CORPORATION|CORP\.?|LP|L\.P\.|COMPANY|CO\.?)$", "", upper)
        if base == upper:
            continue
        suffix = upper[len(base) :]
        out.append((f"{base} II{suffix}", f"{base} III{suffix}", "numbered"))
        out.append((upper, f"{base} GOM{suffix}", "region word"))
        other = " INC" if "LLC" in suffix else " LLC"
        out.append((upper, base + other, "other legal form"))
    return out


def _core(name: str) -> str:
    """Names equal after dropping case, punctuation, suffixes and the agencies'
    abbreviations are not negatives (they are the same company written two ways)."""
    text = name.upper().replace("&", " AND ")
    text = " ".join(re.sub(r"[^A-Z0-9 ]", " ", text).split())
    text = re.sub(r"\bO AND G\b", "OIL AND GAS", text)
    text = re.sub(
        r"\b(INC|INCORPORATED|CORP|CORPORATION|CO|COMPANY|LLC|L L C|LP|L P|LTD)\b", "", text
    )
    for word, abbr in ABBREVIATE:
        text = re.sub(rf"\b{abbr.rstrip('.')}\b", word, text)
    return " ".join(text.split())


def _same_company(a: str, b: str) -> bool:
    ca, cb = _core(a), _core(b)
    # a name cut at a field width is the start of the other (ENERVEST OPERATING L)
    return ca == cb or ca.startswith(cb) or cb.startswith(ca)


def main() -> None:
    rng = random.Random(20261123)
    names = real_names()
    rows: list[tuple[str, str, int, str]] = []
    for a, b in KNOWN_SAME:
        rows.append((a, b, 1, "documented variant"))
    for a, b in KNOWN_DIFFERENT:
        rows.append((a, b, 0, "documented false friend"))
    for name in rng.sample(names, min(120, len(names))):
        for variant, kind in variants(name, rng):
            rows.append((name, variant, 1, kind))
    rows.extend((a, b, 0, kind) for a, b, kind in hard_negatives(names, rng))
    seen: set[tuple[str, str]] = set()
    unique = []
    for row in rows:
        if row[0] != row[1] and (row[0], row[1]) not in seen:
            seen.add((row[0], row[1]))
            unique.append(row)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["left", "right", "same", "kind"])
        writer.writerows(unique)
    positives = sum(r[2] for r in unique)
    print(f"{len(unique)} pairs ({positives} same, {len(unique) - positives} different) -> {OUT}")


if __name__ == "__main__":
    main()
