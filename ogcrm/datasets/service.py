"""The dataset operations the faces call (GraphQL, CLI, jobs), each over a whole
:class:`~ogcrm.db.session.Database` where it needs several transactions.

- :func:`import_now` is the CLI's import: received and processed in this process.
- :func:`request_processing` and :func:`approve` record what a person asked for and
  send the job that does it once their transaction commits.
- :func:`merge_approved` is the merge job's body; :func:`merge_now` is the CLI's merge
  (``--approve``, ``dataset approve``), the same steps without a queue in between.
  Both end in :func:`rescore_touched`: the one place a merge's accounts are rescored.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ogcrm.accounts.organizations import get_organization
from ogcrm.auth import policy
from ogcrm.auth.principal import Principal, system_principal
from ogcrm.datasets import lifecycle, review
from ogcrm.datasets.intake import Received, receive
from ogcrm.datasets.matching import record_decision
from ogcrm.datasets.merge import approve_and_merge, touched_organizations
from ogcrm.datasets.queries import get_dataset
from ogcrm.datasets.revert import revert
from ogcrm.datasets.review import ReviewRow
from ogcrm.datasets.staging import process
from ogcrm.db.models import Action, Dataset, DatasetState, MatchDecision, MatchVerdict
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.errors import Conflict
from ogcrm.jobs import queue
from ogcrm.progress import Progress
from ogcrm.scoring.rule_sets import rescore_soon

log = logging.getLogger(__name__)

PROCESS_JOB = "dataset.process"
MERGE_JOB = "dataset.merge"
REVERT_JOB = "dataset.revert"


def upload(
    session: Session,
    principal: Principal,
    path: Path,
    *,
    digest: str,
    filename: str,
    data_dir: Path,
    source: str | None = None,
) -> Received:
    """An uploaded file (already hashed, under the data dir) kept as a dataset, and its
    processing job sent once this transaction commits; the same bytes for the same
    source are the dataset already made (``already_imported``)."""
    policy.require(principal, "dataset", Action.WRITE)
    received = receive(
        session,
        principal,
        path,
        data_dir=data_dir,
        filename=filename,
        source=source,
        digest=digest,
        move=True,
    )
    if not received.already_imported:
        dataset = lifecycle.get(session, received.dataset_id)
        if dataset.state == DatasetState.RECEIVED:
            request_processing(session, received.dataset_id)
    return received


def request_processing(session: Session, dataset_id: int) -> None:
    """Have the dataset processed once the transaction that received it commits."""
    queue.require_enqueue(session, PROCESS_JOB, dataset_id)


def _writable(session: Session, principal: Principal, dataset_id: int) -> Dataset:
    """A dataset the principal may see and change (review, approve, revert)."""
    dataset = get_dataset(session, principal, dataset_id)
    policy.require(principal, "dataset", Action.WRITE)
    return dataset


def approve(session: Session, principal: Principal, dataset_id: int) -> Dataset:
    """Record (and audit) ``principal``'s approval and have the merge job run once it is
    committed; the merged dataset keeps ``principal`` as its approver."""
    _writable(session, principal, dataset_id)
    dataset = lifecycle.approve(session, principal, dataset_id)
    queue.require_enqueue(session, MERGE_JOB, dataset_id)
    return dataset


def reject(session: Session, principal: Principal, dataset_id: int, *, reason: str = "") -> Dataset:
    """Reject a dataset awaiting review; its staged rows stay for the record."""
    dataset = _writable(session, principal, dataset_id)
    lifecycle.reject(session, principal, dataset_id, reason=reason)
    session.refresh(dataset)
    return dataset


def revert_in(session: Session, principal: Principal, dataset_id: int) -> dict[str, Any]:
    """Revert a merged dataset in the caller's transaction, and have the accounts it had
    touched rescored; returns what was reverted, removed and left alone (conflicts)."""
    _writable(session, principal, dataset_id)
    touched = touched_organizations(session, dataset_id)
    result = revert(session, principal, dataset_id)
    if touched:
        rescore_soon(
            session,
            touched,
            {"kind": "dataset_reverted", "dataset_id": dataset_id, "user_id": principal.user_id},
        )
    return result


def request_revert(session: Session, principal: Principal, dataset_id: int) -> None:
    """Have a merged dataset reverted by a job once this transaction commits."""
    _writable(session, principal, dataset_id)
    lifecycle.check_revertable(session, dataset_id)
    queue.require_enqueue(session, REVERT_JOB, dataset_id)


def edit_row(
    session: Session,
    principal: Principal,
    dataset_id: int,
    row_number: int,
    values: dict[str, Any],
) -> ReviewRow:
    """Fix a quarantined row by hand; it is cleaned again (:func:`review.edit_row`)."""
    _writable(session, principal, dataset_id)
    return review.edit_row(session, principal, dataset_id, row_number, values)


def decide_match(
    session: Session,
    principal: Principal,
    dataset_id: int,
    incoming: str,
    organization_id: int,
    verdict: MatchVerdict,
    *,
    note: str = "",
) -> MatchDecision:
    """A person's word on whether an incoming operator name is a stored organization;
    this import's merge and every later one reuse it."""
    _writable(session, principal, dataset_id)
    org = get_organization(session, principal, organization_id)
    return record_decision(
        session, principal, incoming, org.name, verdict, dataset_id=dataset_id, note=note
    )


def merge_approved(db: Database, dataset_id: int) -> dict[str, Any] | None:
    """The merge job: count the attempt (committed first, so a worker killed mid-merge
    still counts), give up after :data:`~ogcrm.datasets.lifecycle.MAX_MERGE_ATTEMPTS`,
    else merge in one transaction and rescore what it touched. ``None`` when it gave
    up."""
    with db.unit_of_work() as session:
        attempts = lifecycle.count_merge_attempt(session, dataset_id)
        if attempts is not None and attempts > lifecycle.MAX_MERGE_ATTEMPTS:
            lifecycle.give_up_merge(session, dataset_id)
            log.error(
                "dataset %s: merge given up after %s attempts",
                dataset_id,
                lifecycle.MAX_MERGE_ATTEMPTS,
            )
            return None
    with db.unit_of_work() as session:
        counts = approve_and_merge(session, system_principal("job"), dataset_id)
    rescore_touched(db, dataset_id)
    return counts


def merge_now(
    db: Database, principal: Principal, dataset_id: int, *, progress: Progress | None = None
) -> dict[str, Any]:
    """Approve (as ``principal``, unless someone did) and merge in this process, then
    rescore what the merge touched."""
    with db.unit_of_work() as session:
        counts = approve_and_merge(session, principal, dataset_id, progress=progress)
    rescore_touched(db, dataset_id)
    return counts


def revert_now(db: Database, principal: Principal, dataset_id: int) -> dict[str, Any]:
    """Revert a merged dataset in one transaction, then rescore what it had touched."""
    with db.unit_of_work() as session:
        return revert_in(session, principal, dataset_id)


def rescore_touched(db: Database, dataset_id: int) -> None:
    """After a merge, rescore the organizations it touched: a job when this process has
    a broker (rescoring is its own job: the merge is done once it has committed), else
    now (when a rule set is active)."""
    with db.unit_of_work() as session:
        touched = touched_organizations(session, dataset_id)
        if touched:
            rescore_soon(session, touched, {"kind": "dataset_merged", "dataset_id": dataset_id})


def import_now(
    db: Database,
    principal: Principal,
    path: Path,
    *,
    data_dir: Path,
    source: str | None = None,
    approve: bool = False,
    progress: Progress | None = None,
) -> Received:
    """Receive a file and process it in this process (the CLI's ``import``); with
    ``approve``, merge it too once it is ready for review. A file already imported is
    left as it is."""
    with db.unit_of_work() as session:
        received = receive(session, principal, path, data_dir=data_dir, source=source)
    if received.already_imported:
        return received
    with db.read() as session:
        state = lifecycle.get(session, received.dataset_id).state
    if state == DatasetState.RECEIVED:
        state = process(db, received.dataset_id, data_dir=data_dir, progress=progress).state
    if approve and state == DatasetState.AWAITING_REVIEW:
        merge_now(db, principal, received.dataset_id, progress=progress)
    return received


def retry_now(db: Database, dataset_id: int, *, data_dir: Path, lease: float) -> Dataset:
    """Process a dataset again in this process: one still ``received`` (its job never
    ran), or one ``processing`` since longer than ``lease`` seconds ago (the process
    working it was killed). Anything else is a Conflict naming its state."""
    with db.unit_of_work() as session:
        row = lifecycle.get(session, dataset_id)
        if row.state == DatasetState.PROCESSING:
            cutoff = utcnow() - dt.timedelta(seconds=lease)
            if row.started_at is not None and row.started_at >= cutoff:
                raise Conflict(
                    f"dataset {dataset_id} is being processed (since {row.started_at:%H:%M:%S}); "
                    "retry it after the lease, or with --lease 0 if nothing is working it",
                    state=row.state.value,
                )
            lifecycle.release(session, dataset_id)
        elif row.state != DatasetState.RECEIVED:
            raise Conflict(
                f"dataset {dataset_id} is {row.state.value}: nothing to retry",
                state=row.state.value,
            )
    return process(db, dataset_id, data_dir=data_dir)
