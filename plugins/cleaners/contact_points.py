"""Phone numbers to E.164 and e-mail addresses checked, with lower-cased domains.

``(432) 555-0100``, ``432.555.0100`` and ``1-432-555-0100`` become ``+14325550100``
(North American numbers without a country code are taken as +1; an extension is
dropped with a warning). Numbers that are none of these, and addresses that are not
addresses, become empty with a warning: a bad phone must not quarantine a well.
"""

from __future__ import annotations

import pandas as pd

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import CleanContext, Cleaner, ColumnCleaner, ColumnResult, IssueLog

_EXTENSION = r"\s*(?:x|ext\.?|extension|#)\s*\d{1,6}\s*$"
_EMAIL = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,}"


class PhoneCleaner(ColumnCleaner):
    name = "phone"
    kinds = ("phone",)

    def clean_column(
        self, raw: pd.Series, col: str, context: CleanContext, log: IssueLog
    ) -> ColumnResult:
        present = raw.notna()
        extension = raw.str.contains(_EXTENSION, case=False, regex=True, na=False)
        base = raw.str.replace(_EXTENSION, "", case=False, regex=True)
        international = base.str.strip().str.startswith(("+", "00"), na=False)
        digits = base.str.replace(r"\D", "", regex=True)
        digits = digits.where(~base.str.strip().str.startswith("00", na=False), digits.str[2:])
        n = digits.str.len()
        e164 = pd.Series(None, index=raw.index, dtype=object)
        nanp10 = ~international & (n == 10) & ~digits.str[0].isin(["0", "1"])
        nanp11 = ~international & (n == 11) & (digits.str[0] == "1")
        intl = international & n.between(8, 15)
        e164[nanp10] = "+1" + digits[nanp10]
        e164[nanp11 | intl] = "+" + digits[nanp11 | intl]
        ok = e164.notna()
        log.add(present & ok & (e164 != raw), col, raw, e164, "fixed", "written as E.164")
        log.add(present & ok & extension, col, raw, e164, "warning", "extension dropped")
        log.add(present & ~ok, col, raw, None, "warning", "not a phone number; left empty")
        return e164


class EmailCleaner(ColumnCleaner):
    name = "email"
    kinds = ("email",)

    def clean_column(
        self, raw: pd.Series, col: str, context: CleanContext, log: IssueLog
    ) -> ColumnResult:
        text = raw.str.replace(r"^mailto:", "", case=False, regex=True).str.strip("<> ")
        local = text.str.replace(r"@[^@]*$", "", regex=True)
        domain = text.str.extract(r"@([^@]*)$", expand=True)[0].str.lower()
        address = (local + "@" + domain).where(text.str.contains("@", na=False), text)
        valid = address.str.fullmatch(_EMAIL, na=False)
        present = raw.notna()
        log.add(
            present & valid & (address != raw), col, raw, address, "fixed", "domain lower-cased"
        )
        log.add(present & ~valid, col, raw, None, "warning", "not an e-mail address; left empty")
        return address.where(valid, None)


@hookimpl
def ogcrm_register_cleaners() -> list[type[Cleaner]]:
    return [PhoneCleaner, EmailCleaner]
