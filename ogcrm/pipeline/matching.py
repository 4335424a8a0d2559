"""Is this operator one we already know? Organization matching for deduplication.

In order of authority:

1. an agency operator id (RRC P-5 number, BOEM company number, OGRID) decides when both
   sides have one from the same agency: equal ids are the same company, different ids
   are different companies whatever their names;
2. a person's earlier decision on the pair of name keys (confirmed or denied);
3. the names: candidates are found by blocking (same first or second word of the
   normalized key, or same first four letters) and scored
   with rapidfuzz's normalized Levenshtein ratio. At or above ``same`` the names are one
   company *only if* every word of each has a close partner in the other (an extra word
   such as ``GOM`` or a different number is a different company) and the legal forms do
   not disagree (``LLC`` vs ``Inc.`` are successor entities); between ``candidate`` and
   ``same`` a person is asked; below, the organization is new.

Pure: no database. :mod:`ogcrm.datasets.matching` feeds it the CRM's organizations and
decisions.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
from rapidfuzz import fuzz, process

#: Names scoring at least this (0-100) may be merged without a person.
SAME_THRESHOLD = 93.0
#: Between this and SAME_THRESHOLD a merge candidate is proposed for review.
CANDIDATE_THRESHOLD = 80.0
_DIGITS = re.compile(r"\d+")


class Verdict(enum.StrEnum):
    SAME = "same"
    CANDIDATE = "candidate"
    NEW = "new"


_RANK = {Verdict.NEW: 0, Verdict.CANDIDATE: 1, Verdict.SAME: 2}


@dataclass(frozen=True)
class OrgName:
    """One organization as the matcher sees it."""

    key: str  # normalized name key (company_name cleaner)
    name: str = ""
    form: str | None = None  # legal form: corp, llc, lp, ltd or None
    ids: frozenset[tuple[str, str]] = frozenset()  # (agency, operator id)
    organization_id: int | None = None


@dataclass(frozen=True)
class Match:
    verdict: Verdict
    other: OrgName | None
    score: float
    reason: str


def pair_key(a: str, b: str) -> tuple[str, str]:
    """The order a decision on two keys is stored in."""
    return (a, b) if a <= b else (b, a)


def words_compatible(a: str, b: str) -> bool:
    """Every word of each name has a close partner in the other, and numbers agree."""
    if _DIGITS.findall(a) != _DIGITS.findall(b):
        return False
    wa, wb = a.split(), b.split()
    return all(_has_partner(w, wb) for w in wa) and all(_has_partner(w, wa) for w in wb)


def _has_partner(word: str, others: list[str]) -> bool:
    if word in others:
        return True
    if len(word) < 5:
        return False  # short words must match exactly: GOM, USA, EAST
    return any(len(o) >= 5 and fuzz.ratio(word, o) >= 80 for o in others)


def forms_compatible(a: str | None, b: str | None) -> bool:
    """Legal forms that may name one company: equal, one unknown, or a bare ``Co``
    beside anything but an LLC (a company converted to an LLC is a successor)."""
    if a is None or b is None or a == b:
        return True
    return "co" in (a, b) and "llc" not in (a, b)


class OrganizationMatcher:
    """Matches names against known organizations; learns each new one as it goes, so
    the rows of one file are deduplicated against each other too."""

    def __init__(
        self,
        known: Iterable[OrgName] = (),
        decisions: Mapping[tuple[str, str], str] | None = None,
        *,
        same: float = SAME_THRESHOLD,
        candidate: float = CANDIDATE_THRESHOLD,
    ) -> None:
        self.same = same
        self.candidate = candidate
        self.decisions = dict(decisions or {})
        self._by_id: dict[tuple[str, str], OrgName] = {}
        self._by_key: dict[str, OrgName] = {}
        self._blocks: dict[str, list[OrgName]] = defaultdict(list)
        for org in known:
            self.add(org)

    def add(self, org: OrgName) -> None:
        for ident in org.ids:
            self._by_id.setdefault(ident, org)
        if org.key in self._by_key:
            return
        self._by_key[org.key] = org
        for block in self._block_keys(org.key):
            self._blocks[block].append(org)

    @staticmethod
    def _block_keys(key: str) -> set[str]:
        """First word, second word and first four letters: a typo must hit all three
        to hide a candidate."""
        words = key.split(" ")
        blocks = {f"w:{words[0]}", f"p:{key[:4]}"}
        if len(words) > 1 and len(words[1]) >= 3:
            blocks.add(f"w2:{words[1]}")
        return blocks

    def match(self, org: OrgName) -> Match:
        for ident in org.ids:
            if (hit := self._by_id.get(ident)) is not None:
                return Match(Verdict.SAME, hit, 100.0, f"same {ident[0]} operator id {ident[1]}")
        candidates = {
            id(o): o for block in self._block_keys(org.key) for o in self._blocks.get(block, [])
        }
        if not candidates:
            return Match(Verdict.NEW, None, 0.0, "no organization with a similar name")
        others = list(candidates.values())
        scored = process.extract(
            org.key, [o.key for o in others], scorer=fuzz.ratio, limit=5, score_cutoff=0
        )
        best: Match | None = None
        for _, score, i in scored:
            other = others[i]
            decided = self.decisions.get(pair_key(org.key, other.key))
            if decided == "different" or _ids_differ(org, other):
                continue
            if decided == "same" or (
                other.key == org.key and forms_compatible(org.form, other.form)
            ):
                reason = "confirmed by a person" if decided == "same" else "same normalized name"
                return Match(Verdict.SAME, other, float(score), reason)
            verdict = self._verdict(org, other, float(score))
            if best is None or (_RANK[verdict], score) > (_RANK[best.verdict], best.score):
                best = Match(verdict, other, float(score), self._reason(org, other, verdict, score))
        if best is None or best.verdict is Verdict.NEW:
            return Match(Verdict.NEW, None, best.score if best else 0.0, "no close name")
        return best

    def _verdict(self, org: OrgName, other: OrgName, score: float) -> Verdict:
        if (
            score >= self.same
            and words_compatible(org.key, other.key)
            and forms_compatible(org.form, other.form)
        ):
            return Verdict.SAME
        if score >= self.candidate or (
            other.key.startswith(org.key + " ") or org.key.startswith(other.key + " ")
        ):
            return Verdict.CANDIDATE
        return Verdict.NEW

    @staticmethod
    def _reason(org: OrgName, other: OrgName, verdict: Verdict, score: float) -> str:
        if verdict is Verdict.SAME:
            return f"names {score:.0f}% alike"
        if not forms_compatible(org.form, other.form):
            return f"names alike but legal forms differ ({org.form} vs {other.form})"
        if not words_compatible(org.key, other.key):
            return f"names {score:.0f}% alike but words differ"
        return f"names {score:.0f}% alike"


def _ids_differ(a: OrgName, b: OrgName) -> bool:
    """Both have an id from the same agency, and the ids differ."""
    agencies = {ag for ag, _ in a.ids} & {ag for ag, _ in b.ids}
    return any(
        {i for ag, i in a.ids if ag == agency}.isdisjoint({i for ag, i in b.ids if ag == agency})
        for agency in agencies
    )


def contact_groups(emails: pd.Series, phones: pd.Series) -> pd.Series:
    """One group label per row: rows sharing a cleaned e-mail or phone are one person.

    Chains join (row 1 and 2 share an e-mail, 2 and 3 a phone: one group), through a
    union-find over the distinct keys, so its cost grows with the keys, not the pairs.
    """
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        while parent.setdefault(i, i) != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    positions = range(len(emails))
    for values in (emails, phones):
        first_seen: dict[str, int] = {}
        for pos, value in zip(positions, values.to_numpy(), strict=True):
            if value is None or (isinstance(value, float) and value != value):
                continue
            key = str(value).lower()
            if key in first_seen:
                a, b = find(pos), find(first_seen[key])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                first_seen[key] = pos
    return pd.Series([find(i) for i in positions], index=emails.index)
