"""Natural keys in their one canonical form.

The database refuses any other form (CHECK constraints in the models), so every writer —
import merge, GraphQL mutation, CLI — must come through here first. The cleaners build
their richer diagnostics on top of these functions rather than re-implementing them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NON_DIGITS = re.compile(r"\D+")


class IdentifierError(ValueError):
    """A value cannot be read as the identifier asked for; the message says why."""


@dataclass(frozen=True)
class ApiNumber:
    """An API well number: 10 digits (state, county, well) plus the optional 14-digit form."""

    api10: str
    api14: str | None = None

    def __str__(self) -> str:
        return f"{self.api10[:2]}-{self.api10[2:5]}-{self.api10[5:]}"


def normalize_api_number(value: str | int, *, state_code: str | None = None) -> ApiNumber:
    """Read an API well number written any common way.

    Accepts dashed or plain forms of 10, 12 (with sidetrack) and 14 (with sidetrack and
    event) digits, and the 8-digit county+well form when the source implies the state
    (``state_code``, e.g. ``"42"`` for Texas files).

    Example:
        >>> normalize_api_number("42-123-45678").api10
        '4212345678'
        >>> normalize_api_number("12345678", state_code="42").api10
        '4212345678'

    Raises:
        IdentifierError: the value has a digit count no API form has.
    """
    digits = _NON_DIGITS.sub("", str(value))
    if len(digits) == 8 and state_code:
        if not (len(state_code) == 2 and state_code.isdigit()):
            raise IdentifierError(f"state code {state_code!r} is not two digits")
        digits = state_code + digits
    if len(digits) == 10:
        return ApiNumber(digits)
    if len(digits) == 12:
        return ApiNumber(digits[:10], digits + "00")
    if len(digits) == 14:
        return ApiNumber(digits[:10], digits)
    raise IdentifierError(
        f"API number {value!r} has {len(digits)} digits; expected 10, 12 or 14"
        + ("" if state_code else " (or 8 with the state implied by the source)")
    )


def normalize_agency_identifier(agency: str, identifier: str | int) -> tuple[str, str]:
    """Canonical ``(agency, identifier)``: agency lower-case, identifier trimmed upper-case.

    Leading zeros are kept: RRC operator ``020528`` and ``20528`` are different strings
    and the agency decides whether they are the same operator, not us.
    """
    agency_key = agency.strip().lower()
    ident = str(identifier).strip().upper()
    if not agency_key or not ident:
        raise IdentifierError(f"agency {agency!r} and identifier {identifier!r} must not be empty")
    return agency_key, ident
