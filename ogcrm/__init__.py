"""ogcrm: a GraphQL CRM fed by public oil and gas regulatory data.

This module is the public surface plugins import, kept light: the plugin base classes
load on first use.

Example:
    >>> from ogcrm import hookimpl, Reader
"""

from __future__ import annotations

import os
from typing import Any

import pluggy

# Arrow's memory (the CSV reader's batches, pandas' strings) comes from the C library's
# allocator unless the operator says otherwise: Arrow's default, mimalloc, reserves
# arenas of a gigabyte of address space on first use, which a process under
# ``ulimit -v`` (RLIMIT_AS) cannot have, for no speed measured on the readers or the
# cleaners. Read by Arrow at its first allocation, so this must run before that.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

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
