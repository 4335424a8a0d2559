"""The import cleaners, applied to values a person types through the service layer.

A phone typed as ``(432) 555-0100`` is stored as ``+14325550100`` by the same ``phone``
cleaner an import runs, so the CRM holds one form whatever the way in. Each correction
is returned so the caller can record it; a value the cleaners refuse (error, or a
warning that leaves it empty) is an :class:`~ogcrm.errors.InvalidInput` naming
the field and position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ogcrm.errors import InvalidInput
from ogcrm.pipeline.contracts import DEFAULT_CLEANERS, SourceSpec
from ogcrm.pipeline.mapping import clean_context
from ogcrm.plugins import Registry, default_registry


@dataclass(frozen=True)
class Correction:
    field: str
    original: str
    corrected: Any
    cleaner: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "original": self.original,
            "corrected": self.corrected,
            "cleaner": self.cleaner,
            "message": self.message,
        }


def _run_chain(
    field: str, values: Sequence[str], state: str | None, registry: Registry | None
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    registry = registry or default_registry()
    source = SourceSpec(
        name="edit", title="Edit", agency="user", mapping={field: field}, state=state
    )
    context = clean_context(source)
    frame = pd.DataFrame({field: pd.Series(list(values), dtype=object)})
    issues: list[pd.DataFrame] = []
    for name in DEFAULT_CLEANERS:
        frame, found = registry.cleaners[name]().clean(frame, context)
        if len(found):
            issues.append(found)
    return frame, issues


@dataclass(frozen=True)
class OrganizationName:
    display: str
    key: str
    form: str | None
    corrections: list[Correction]


def organization_name(name: str, *, registry: Registry | None = None) -> OrganizationName:
    """A typed organization name as imports see it: display name, matching key and legal
    form, so typed and imported names deduplicate alike."""
    frame, issues = _run_chain("operator_name", [name], None, registry)
    display = frame["operator_name"].iloc[0]
    if display is None or pd.isna(display):
        raise InvalidInput("name must not be empty", field="name")
    form = frame["operator_name_form"].iloc[0]
    corrections = [
        Correction("name", str(r.original), r.corrected, r.cleaner, r.message)
        for part in issues
        for r in part.itertuples(index=False)
        if r.severity == "fixed"
    ]
    return OrganizationName(
        str(display),
        str(frame["operator_name_key"].iloc[0]),
        form if isinstance(form, str) else None,
        corrections,
    )


def organization_keys(
    names: Sequence[str], *, registry: Registry | None = None
) -> list[tuple[str | None, str | None]]:
    """``(key, legal form)`` for many names in one pass of the chain (a CRM's worth of
    organizations at once when a matcher is loaded)."""
    if not names:
        return []
    frame, _ = _run_chain("operator_name", names, None, registry)
    keys = frame["operator_name_key"].astype(object).where(frame["operator_name_key"].notna(), None)
    forms = (
        frame["operator_name_form"].astype(object).where(frame["operator_name_form"].notna(), None)
    )
    return list(zip(keys.tolist(), forms.tolist(), strict=True))


def clean_field_values(
    field: str,
    values: Sequence[str],
    *,
    label: str | None = None,
    state: str | None = None,
    registry: Registry | None = None,
) -> tuple[list[Any], list[Correction]]:
    """Clean several values of one canonical field (``contact_phone``, ``operator_name``).

    Returns the cleaned values, in order, and the corrections made. ``label`` is the
    input's name in error messages (``phones``): ``phones[1]: not a phone number``.
    """
    label = label or field
    frame, issues = _run_chain(field, values, state, registry)
    cleaned = frame[field].astype(object).where(frame[field].notna(), None).tolist()
    corrections: list[Correction] = []
    for part in issues:
        for row in part.itertuples(index=False):
            position = f"{label}[{row.row}]" if len(values) > 1 or label != field else label
            if row.severity == "error" or (row.severity == "warning" and row.corrected is None):
                raise InvalidInput(f"{position}: {row.message}", field=label)
            if row.severity == "fixed" and row.column == field:
                corrections.append(
                    Correction(position, str(row.original), row.corrected, row.cleaner, row.message)
                )
    return cleaned, corrections


def clean_one(field: str, value: str, **kwargs: Any) -> tuple[Any, list[Correction]]:
    cleaned, corrections = clean_field_values(field, [value], **kwargs)
    return cleaned[0], corrections


def check_length(column: Any, field: str, value: str | None) -> None:
    """``value`` fits ``column`` (a mapped attribute), else a ValidationError naming
    ``field``, the same on both databases (PostgreSQL refuses a longer value, SQLite
    would store it)."""
    limit = getattr(column.type, "length", None)
    if value is not None and limit is not None and len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)
