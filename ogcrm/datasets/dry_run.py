"""A dry run of the cleaner chain over a file (``ogcrm clean``): what an import would do,
with nothing stored.

The source is chosen as an import chooses it (:func:`ogcrm.datasets.intake.choose_source`),
optionally with a mapping edited by hand, so a mapping tried here is the one an import
would use.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from ogcrm.datasets.intake import choose_source
from ogcrm.pipeline.cleaning import CleanRun
from ogcrm.pipeline.detect import read_file
from ogcrm.plugins import Registry, default_registry

OUTCOMES = ("rows_read", "clean", "fixed", "quarantined", "duplicate")


def dry_run(
    path: Path,
    registry: Registry | None = None,
    *,
    source: str | None = None,
    state: str | None = None,
    mapping: dict[str, str | None] | None = None,
    examples: int = 3,
) -> dict[str, Any]:
    """Clean ``path`` as an import would; returns the source, its mapping, the outcome
    counts (rows read = clean + fixed + quarantined + duplicate) and every kind of
    correction with up to ``examples`` examples.

    Raises:
        InvalidInput: an unknown source name.
        ReaderError, MappingError: the file cannot be read or mapped (file, row, column).
    """
    registry = registry or default_registry()
    spec = choose_source(path, registry, source=source, display_name=path.name, state=state)
    if mapping:
        edited = dict(spec.mapping)
        for field, column in mapping.items():
            if column:
                edited[field] = column
            else:
                edited.pop(field, None)
        spec = replace(spec, mapping=edited)
    run = CleanRun(spec, registry, path.name)
    samples: dict[tuple[str, str, str, str], list[dict[str, object]]] = defaultdict(list)
    for cleaned in run.clean_all(read_file(path, registry, options=dict(spec.reader_options))):
        for rec in cleaned.issues.itertuples(index=False):
            key = (rec.cleaner, rec.column, rec.severity, rec.message)
            if len(samples[key]) < examples:
                samples[key].append(
                    {"row": int(rec.row), "original": rec.original, "corrected": rec.corrected}
                )
    return {
        "file": str(path),
        "source": spec.name,
        "title": spec.title,
        "mapping": {f: spec.raw_column(f) for f in spec.mapping},
        "counts": {k: int(run.counts.get(k, 0)) for k in OUTCOMES},
        "issues": [
            {
                "cleaner": c,
                "column": col,
                "severity": sev,
                "message": msg,
                "count": run.issue_counts[(c, col, sev, msg)],
                "examples": ex,
            }
            for (c, col, sev, msg), ex in samples.items()
        ],
    }
