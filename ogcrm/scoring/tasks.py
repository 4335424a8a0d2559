"""The scoring job: rescore organizations (all of them, or the ones named) with the
active rule set."""

from __future__ import annotations

import logging
from typing import Any

from ogcrm.jobs.registry import job
from ogcrm.jobs.runtime import JobRuntime
from ogcrm.scoring.rescore import NoActiveRuleSet, rescore
from ogcrm.scoring.rule_sets import RESCORE_JOB

log = logging.getLogger(__name__)


@job(RESCORE_JOB)
def rescore_organizations(
    rt: JobRuntime,
    organization_ids: list[int] | None = None,
    cause: dict[str, Any] | None = None,
) -> None:
    """``cause`` (what called for the rescore, told to subscribers) is absent from
    messages queued by older versions."""
    with rt.db.unit_of_work() as session:
        try:
            rescore(session, organization_ids=organization_ids, cause=cause)
        except NoActiveRuleSet:
            log.info("no active rule set: nothing to rescore")
