"""The hook implementations ogcrm calls (entry point ``occ_itd`` in pyproject.toml).

Each hook returns classes (or, for sources, specs); ogcrm instantiates them when it
needs them. Nothing here may do I/O at registration time.
"""

from __future__ import annotations

from ogcrm import DEFAULT_CLEANERS, Cleaner, Reader, Scorer, SourceSpec, hookimpl
from ogcrm_example_plugin.cleaner import OtcOperatorCleaner
from ogcrm_example_plugin.reader import ItdReader
from ogcrm_example_plugin.scorer import PermitStatesScorer

#: The bulletin's columns mapped to ogcrm's canonical fields (``ogcrm fields``). A file
#: is taken for this source when it has all of these columns.
ITD_SOURCE = SourceSpec(
    name="ok-occ-itd",
    title="Oklahoma OCC intent-to-drill bulletin",
    agency="ok-occ",
    state="OK",
    reader=ItdReader.name,
    precedence=50,
    mapping={
        "permit_number": "PERMIT",
        "api": "API",
        "lease_name": "WELL",
        "operator_name": "OPERATOR",
        "county": "COUNTY",
        "issued_date": "APPROVED",
        "latitude": "SURFACE_LAT",
        "longitude": "SURFACE_LONG",
    },
    # Ours first: it splits the OTC number out of the operator's name, which the
    # built-in company-name cleaner then normalizes.
    cleaners=(OtcOperatorCleaner.name, *DEFAULT_CLEANERS),
    description="Approved intents to drill; the operator's OTC number is written after its name.",
)


@hookimpl
def ogcrm_register_readers() -> list[type[Reader]]:
    return [ItdReader]


@hookimpl
def ogcrm_register_cleaners() -> list[type[Cleaner]]:
    return [OtcOperatorCleaner]


@hookimpl
def ogcrm_register_scorers() -> list[type[Scorer]]:
    return [PermitStatesScorer]


@hookimpl
def ogcrm_register_sources() -> list[SourceSpec]:
    return [ITD_SOURCE]
