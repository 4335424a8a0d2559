"""Built-in sources: one TOML file per agency dataset kind, beside this module.

Each file is a :class:`~ogcrm.pipeline.contracts.SourceSpec`: ``name``, ``title``,
``agency``, optional ``state``, ``reader`` and ``[reader_options]``, ``[mapping]``
(canonical field = raw column, or a table with ``column`` and ``unit``), optional
``cleaners`` and ``[options]``.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import DEFAULT_CLEANERS, SourceSpec


def load_source(text: str) -> SourceSpec:
    """A source from its TOML text."""
    data: dict[str, Any] = tomllib.loads(text)
    return SourceSpec(
        name=data["name"],
        title=data["title"],
        agency=data["agency"],
        mapping=data["mapping"],
        state=data.get("state"),
        reader=data.get("reader"),
        reader_options=data.get("reader_options", {}),
        cleaners=tuple(data.get("cleaners", DEFAULT_CLEANERS)),
        scorers=tuple(data.get("scorers", ())),
        precedence=int(data.get("precedence", 0)),
        options=data.get("options", {}),
        description=data.get("description", ""),
    )


@hookimpl
def ogcrm_register_sources() -> list[SourceSpec]:
    here = resources.files(__name__)
    return [
        load_source(entry.read_text(encoding="utf-8"))
        for entry in sorted(here.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    ]
