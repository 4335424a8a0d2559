"""ogcrm: a GraphQL CRM fed by public oil and gas regulatory data.

This module is the public surface plugins import, kept light: the plugin base classes
load on first use.

Example:
    >>> from ogcrm import hookimpl, Reader
"""

from __future__ import annotations

from typing import Any

import pluggy

from ogcrm import _memory

_memory.configure()  # before anything allocates through Arrow: see the module

__version__ = "0.1.0"

#: Decorates a plugin's hook implementations (see :mod:`ogcrm.hookspecs`).
hookimpl = pluggy.HookimplMarker("ogcrm")

_CONTRACT = {
    "Reader",
    "Cleaner",
    "ColumnCleaner",
    "Scorer",
    "Sniff",
    "Chunk",
    "RowProblem",
    "ReaderError",
    "CleanContext",
    "IssueLog",
    "Feature",
    "FeatureContext",
    "Notifier",
    "NotifierError",
    "NotifierSettings",
    "OutboundMessage",
    "SourceSpec",
    "DEFAULT_CLEANERS",
    "DEFAULT_CHUNK_ROWS",
}


def __getattr__(name: str) -> Any:
    if name in _CONTRACT:
        from ogcrm.pipeline import contracts, errors

        return getattr(contracts, name, None) or getattr(errors, name)
    raise AttributeError(f"module 'ogcrm' has no attribute {name!r}")


__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_CLEANERS",
    "Chunk",
    "CleanContext",
    "Cleaner",
    "ColumnCleaner",
    "Feature",
    "FeatureContext",
    "IssueLog",
    "Notifier",
    "NotifierError",
    "NotifierSettings",
    "OutboundMessage",
    "Reader",
    "ReaderError",
    "RowProblem",
    "Scorer",
    "Sniff",
    "SourceSpec",
    "__version__",
    "hookimpl",
]
