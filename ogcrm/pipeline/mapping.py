"""From a file's raw columns to canonical fields: a source's mapping, or one suggested.

A built-in or configured source carries its mapping. For a file of no known source, the
mapping is *suggested* from the header: each raw name is compared with every canonical
field's name and synonyms (rapidfuzz, on a normalized form), the best pairs above a
threshold are taken greedily so no field or column is used twice, and the suggestion
(with its scores) is shown for a person to edit before anything is imported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from rapidfuzz import fuzz, process

from ogcrm.pipeline.contracts import CleanContext, SourceSpec
from ogcrm.pipeline.fields import BY_NAME, FIELDS, kind_of

#: A suggestion needs at least this similarity (0-100) between header and a synonym.
SUGGEST_THRESHOLD = 86.0
_UNIT_IN_HEADER = re.compile(
    r"\b(MMBBL|MBBL|BBL|MMCF|BCF|MCF|THOUSAND BARRELS|MILLION BARRELS)\b", re.IGNORECASE
)


class MappingError(ValueError):
    """A source's mapping does not fit the file; the message names file and columns."""


@dataclass(frozen=True)
class Suggestion:
    field: str
    column: str
    score: float
    synonym: str


def normalize_header(name: str) -> str:
    """``"Gas Produced, Mcf"`` -> ``"gas produced mcf"``: case, punctuation, spacing."""
    return re.sub(r"[^a-z0-9#&]+", " ", name.lower()).strip()


def _vocabulary() -> tuple[list[str], list[str]]:
    names: list[str] = []
    owners: list[str] = []
    for field in FIELDS:
        for synonym in {field.name.replace("_", " "), *field.synonyms}:
            names.append(normalize_header(synonym))
            owners.append(field.name)
    return names, owners


def suggest_mapping(columns: Sequence[str]) -> list[Suggestion]:
    """The best canonical field for each raw column that resembles one, greedy by score."""
    vocabulary, owners = _vocabulary()
    headers = [normalize_header(c) for c in columns]
    scores = process.cdist(headers, vocabulary, scorer=fuzz.ratio, workers=1)
    candidates: list[Suggestion] = []
    for i, column in enumerate(columns):
        for j in scores[i].argsort()[::-1][:5]:
            if scores[i][j] >= SUGGEST_THRESHOLD:
                candidates.append(Suggestion(owners[j], column, float(scores[i][j]), vocabulary[j]))
    chosen: list[Suggestion] = []
    used_fields: set[str] = set()
    used_columns: set[str] = set()
    for s in sorted(candidates, key=lambda s: -s.score):
        if s.field in used_fields or s.column in used_columns:
            continue
        chosen.append(s)
        used_fields.add(s.field)
        used_columns.add(s.column)
    return sorted(chosen, key=lambda s: list(columns).index(s.column))


def generic_source(columns: Sequence[str], *, state: str | None = None) -> SourceSpec:
    """A source for a file of no known kind, with the suggested mapping."""
    mapping = {s.field: s.column for s in suggest_mapping(columns)}
    return SourceSpec(
        name="generic",
        title="Generic file (suggested mapping)",
        agency="unknown",
        mapping=mapping,
        state=state,
    )


def match_source(columns: Sequence[str], sources: Mapping[str, SourceSpec]) -> SourceSpec | None:
    """The built-in source whose mapped columns the file has, all of them; the one that
    maps the most columns when several fit."""
    present = set(columns)
    fitting = [
        spec
        for spec in sources.values()
        if spec.mapping and all(spec.raw_column(f) in present for f in spec.mapping)
    ]
    return max(fitting, key=lambda s: len(s.mapping), default=None)


def clean_context(source: SourceSpec) -> CleanContext:
    """What the cleaners are told about a source's canonical columns."""
    kinds = {f: kind_of(f) for f in source.mapping}
    headers = {f: source.raw_column(f) for f in source.mapping}
    units: dict[str, str] = {}
    for f in source.mapping:
        unit = source.unit(f)
        if unit is None and (m := _UNIT_IN_HEADER.search(headers[f])):
            unit = m.group(1).upper()
        base = BY_NAME[f].unit if f in BY_NAME else None
        if unit and base and unit.upper() != base.upper():
            units[f] = unit
    return CleanContext(
        source=source.name,
        agency=source.agency,
        state=source.state,
        kinds=kinds,
        units=units,
        headers=headers,
        options=source.options,
    )


def apply_mapping(frame: pd.DataFrame, source: SourceSpec, *, filename: str) -> pd.DataFrame:
    """The canonical columns of ``frame`` (raw values, original index)."""
    missing = [source.raw_column(f) for f in source.mapping if source.raw_column(f) not in frame]
    if missing:
        raise MappingError(
            f"{filename}: source {source.name!r} maps column(s) "
            f"{', '.join(repr(m) for m in missing)} that the file does not have "
            f"(it has {', '.join(repr(c) for c in list(frame.columns)[:12])}"
            f"{'...' if len(frame.columns) > 12 else ''})"
        )
    return pd.DataFrame({f: frame[source.raw_column(f)] for f in source.mapping}, index=frame.index)
