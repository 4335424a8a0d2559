"""Operator-name matching quality on the labelled pairs (tests/data/operator_pairs.csv).

For each pair the matcher knows the left name and is shown the right one. Prints, for
ogcrm's matcher and for the obvious alternative (one rapidfuzz token-set ratio threshold
on upper-cased names), the precision and recall of automatic merges, how many true
pairs are at least proposed for review, and the false merges by kind:

    python bench/match_quality.py
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "tests" / "data" / "operator_pairs.csv"


def load_pairs() -> list[dict[str, str]]:
    with PAIRS.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def ogcrm_verdicts(pairs: list[dict[str, str]]) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from ogcrm.accounts.cleaning import clean_field_values
    from ogcrm.pipeline.matching import OrganizationMatcher, OrgName

    names = sorted({p["left"] for p in pairs} | {p["right"] for p in pairs})
    _, _ = clean_field_values("operator_name", names[:1])  # warm the registry
    import pandas as pd

    from ogcrm.pipeline.contracts import SourceSpec
    from ogcrm.pipeline.mapping import clean_context
    from ogcrm.plugins import default_registry

    spec = SourceSpec("pairs", "pairs", "bench", mapping={"operator_name": "operator_name"})
    frame = pd.DataFrame({"operator_name": pd.Series(names, dtype=object)})
    frame, _ = default_registry().cleaners["company_name"]().clean(frame, clean_context(spec))
    keyed = {
        n: OrgName(k, n, f if isinstance(f, str) else None)
        for n, k, f in zip(names, frame.operator_name_key, frame.operator_name_form, strict=True)
    }
    verdicts = []
    for p in pairs:
        matcher = OrganizationMatcher([keyed[p["left"]]])
        verdicts.append(str(matcher.match(keyed[p["right"]]).verdict))
    return verdicts


def naive_verdicts(pairs: list[dict[str, str]], threshold: float = 90.0) -> list[str]:
    from rapidfuzz import fuzz

    return [
        "same"
        if fuzz.token_set_ratio(p["left"].upper(), p["right"].upper()) >= threshold
        else "new"
        for p in pairs
    ]


def report(label: str, pairs: list[dict[str, str]], verdicts: list[str]) -> None:
    same = [p["same"] == "1" for p in pairs]
    auto = [v == "same" for v in verdicts]
    surfaced = [v in ("same", "candidate") for v in verdicts]
    tp = sum(a and s for a, s in zip(auto, same, strict=True))
    merges = sum(auto)
    positives = sum(same)
    precision = tp / merges if merges else 1.0
    recall = tp / positives
    review = sum(x and s for x, s in zip(surfaced, same, strict=True)) / positives
    false = Counter(p["kind"] for p, a, s in zip(pairs, auto, same, strict=True) if a and not s)
    missed = Counter(
        p["kind"] for p, x, s in zip(pairs, surfaced, same, strict=True) if s and not x
    )
    print(
        f"{label:<34}{merges:>8}{precision:>11.3f}{recall:>9.3f}{review:>17.3f}   "
        f"false merges: {dict(false) or 'none'}; never proposed: {dict(missed) or 'none'}"
    )


def main() -> None:
    pairs = load_pairs()
    positives = sum(p["same"] == "1" for p in pairs)
    print(f"{len(pairs)} labelled pairs: {positives} same, {len(pairs) - positives} different")
    print(f"{'matcher':<34}{'merges':>8}{'precision':>11}{'recall':>9}{'merge+review':>17}")
    t = time.perf_counter()
    verdicts = ogcrm_verdicts(pairs)
    elapsed = time.perf_counter() - t
    report("ogcrm (keys + guards)", pairs, verdicts)
    report("token_set_ratio >= 90 (naive)", pairs, naive_verdicts(pairs))
    print(f"ogcrm matched {len(pairs)} pairs in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
