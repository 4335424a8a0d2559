"""Company and operator names: the display name is kept, a matching key is added.

For a name column ``operator_name`` the cleaner adds ``operator_name_key`` (upper case,
``&`` as ``AND``, punctuation folded, common abbreviations spelled out, legal suffixes
removed) and ``operator_name_form`` (the legal form the suffixes named: ``corp``,
``llc``, ``lp``, ``ltd``, or ``co`` for a bare ``Co``/``Company``). Deduplication
compares keys and refuses to merge two different legal forms automatically (``NCX
Company, L.L.C.`` and ``NCX Company, Inc.`` are successor entities, not one company);
``co`` goes with any form but ``llc``, since ``Hunt Oil Co.`` may be written without its
``Inc.``, while a ``Company`` that became an ``LLC`` is a successor.

A name cut short by an agency's field width (Ohio's ``ENERVEST OPERATING L``) is
flagged as a warning and keyed without its dangling fragment, so it still meets
``EnerVest Operating, LLC``.
"""

from __future__ import annotations

import re

import pandas as pd

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import (
    CleanContext,
    Cleaner,
    ColumnCleaner,
    ColumnResult,
    IssueLog,
    map_distinct_columns,
)

#: Trailing words naming a legal form (after punctuation is folded to spaces), by form.
LEGAL_SUFFIXES: dict[str, str | None] = {
    "INC": "corp",
    "INCORPORATED": "corp",
    "CORP": "corp",
    "CORPORATION": "corp",
    "LLC": "llc",
    "LP": "lp",
    "LLP": "lp",
    "LTD": "ltd",
    "LIMITED": "ltd",
    "PLC": "corp",
    "CO": "co",
    "COMPANY": "co",
}
_SUFFIX_RE = re.compile(
    r"(?:\s+(?:"
    + "|".join(sorted((re.escape(k) for k in LEGAL_SUFFIXES), key=len, reverse=True))
    + r"))+$"
)
#: Abbreviations agencies use to fit names in 32 characters, spelled out for matching.
ABBREVIATIONS = {
    "RES": "RESOURCES",
    "RESRCS": "RESOURCES",
    "PROD": "PRODUCTION",
    "EXPL": "EXPLORATION",
    "EXPLOR": "EXPLORATION",
    "OPER": "OPERATING",
    "OPERG": "OPERATING",
    "PET": "PETROLEUM",
    "PETRO": "PETROLEUM",
    "NAT": "NATURAL",
    "INTL": "INTERNATIONAL",
    "MGMT": "MANAGEMENT",
    "SVCS": "SERVICES",
    "SVC": "SERVICE",
    "DEV": "DEVELOPMENT",
    "ENGY": "ENERGY",
    "ASSOC": "ASSOCIATES",
    "BROS": "BROTHERS",
    "MTN": "MOUNTAIN",
    "O AND G": "OIL AND GAS",
    "O G": "OIL AND GAS",
    "E AND P": "EXPLORATION AND PRODUCTION",
    "E P": "EXPLORATION AND PRODUCTION",
    "U S A": "USA",
    "U S": "US",
}
_ABBREV_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(k) for k in ABBREVIATIONS), key=len, reverse=True)) + r")\b"
)
#: A dangling last word that is the start of a legal suffix: the name was cut short.
_FRAGMENTS = {
    word[:i]
    for word in ("LLC", "INC", "CORP", "CORPORATION", "INCORPORATED", "COMPANY", "LIMITED", "LTD")
    for i in range(1, len(word))
} - {"CO", "CORP", "INC", "LTD", "LL"} | {"LL"}
_NON_WORD = re.compile(r"[^0-9A-Z]+")


def name_key(name: str) -> tuple[str, str | None, bool]:
    """``(key, legal form, looks truncated)`` for one name.

    Example:
        >>> name_key("Pioneer Natural Res. USA, Inc.")
        ('PIONEER NATURAL RESOURCES USA', 'corp', False)
        >>> name_key("ENERVEST OPERATING L")
        ('ENERVEST OPERATING', None, True)
    """
    text = name.upper().replace("&", " AND ")
    text = re.sub(r"\bU\.\s*S\.\s*A\.?", "USA", text)
    text = _NON_WORD.sub(" ", text).strip()
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\bL L (C|P)$", r"LL\1", re.sub(r"\bL P$", "LP", text))
    form: str | None = None
    truncated = False
    match = _SUFFIX_RE.search(text)
    if match and match.start() > 0:
        form = LEGAL_SUFFIXES.get(match.group(0).split()[-1])  # the last one names it
        text = text[: match.start()]
    else:
        words = text.split(" ")
        # an initial ("Southwell, R.C.") ends in a period; a cut-off word does not
        truncated = len(words) > 1 and words[-1] in _FRAGMENTS and not name.rstrip().endswith(".")
        if truncated:
            text = " ".join(words[:-1])
    text = _ABBREV_RE.sub(lambda m: ABBREVIATIONS[m.group(1)], text)
    return text.strip() or name.upper().strip(), form, truncated


class CompanyNameCleaner(ColumnCleaner):
    name = "company_name"
    kinds = ("name",)

    def clean_column(
        self, raw: pd.Series, col: str, context: CleanContext, log: IssueLog
    ) -> ColumnResult:
        key, form, truncated = map_distinct_columns(raw, name_key, 3)
        log.add(
            raw.notna() & truncated.fillna(False).astype(bool),
            col,
            raw,
            raw,
            "warning",
            "name looks cut short (ends in the start of a legal suffix); matched without it",
        )
        return {f"{col}_key": key, f"{col}_form": form}


@hookimpl
def ogcrm_register_cleaners() -> list[type[Cleaner]]:
    return [CompanyNameCleaner]
