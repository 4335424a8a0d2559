"""The dataset state machine: one module writes every state, each write leaves only the
state it expects, and an approval is kept (and audited) whoever runs the merge."""

from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path

import dramatiq
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from ogcrm.auth.principal import system_principal
from ogcrm.cli import main
from ogcrm.datasets import lifecycle, service
from ogcrm.datasets.intake import receive
from ogcrm.datasets.staging import process
from ogcrm.db.models import AuditEvent, Dataset, DatasetState
from ogcrm.errors import InvalidInput
from ogcrm.jobs.runtime import JobRuntime
from ogcrm.worker import build_broker

CSV = "Operator Name,API #\nAcme Oil Co.,42-003-12345\n"
OGCRM = Path(__file__).resolve().parents[2] / "ogcrm"


def _awaiting_review(db, tmp_path) -> int:
    path = tmp_path / "upload.csv"
    path.write_text(CSV)
    with db.unit_of_work() as s:
        dataset_id = receive(s, system_principal("test"), path, data_dir=tmp_path).dataset_id
    process(db, dataset_id, data_dir=tmp_path)
    return dataset_id


def _approvals(session, dataset_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "dataset.approve", AuditEvent.entity_id == str(dataset_id)
            )
        )
    )


def test_an_approval_through_the_service_is_kept_by_the_merge_job(db, settings, tmp_path, users):
    analyst = users.create("analyst")
    dataset_id = _awaiting_review(db, tmp_path)
    broker = build_broker(
        settings.__class__(**{**settings.__dict__, "redis_url": ""}), JobRuntime(db, tmp_path)
    )
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    try:
        before = dt.datetime.now(dt.UTC)
        with db.unit_of_work() as s:
            service.approve(s, analyst.principal(db), dataset_id)
        broker.join("dataset", fail_fast=True)
    finally:
        worker.stop()
    with db.read() as s:
        dataset = s.get(Dataset, dataset_id)
        approvals = _approvals(s, dataset_id)
    assert dataset.state == DatasetState.MERGED  # merged by the job, as the system ...
    assert dataset.reviewed_by_id == analyst.id  # ... yet the analyst is the approver
    reviewed_at = dataset.reviewed_at.replace(tzinfo=dataset.reviewed_at.tzinfo or dt.UTC)
    assert before - dt.timedelta(seconds=5) <= reviewed_at <= dt.datetime.now(dt.UTC)
    assert [(a.user_id, a.action) for a in approvals] == [(analyst.id, "dataset.approve")]


def test_an_approval_through_the_cli_is_recorded_and_audited(db, settings, tmp_path, monkeypatch):
    dataset_id = _awaiting_review(db, tmp_path)
    monkeypatch.setenv("OGCRM_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(main, ["dataset", "approve", str(dataset_id), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[-1])["state"] == "merged"
    with db.read() as s:
        dataset = s.get(Dataset, dataset_id)
        approvals = _approvals(s, dataset_id)
    assert dataset.reviewed_at is not None
    assert len(approvals) == 1 and approvals[0].user_id is None  # the command line, no user


def test_a_second_approval_is_refused(db, tmp_path, users):
    analyst = users.create("analyst")
    dataset_id = _awaiting_review(db, tmp_path)
    with db.unit_of_work() as s:
        lifecycle.approve(s, analyst.principal(db), dataset_id)
    with pytest.raises(InvalidInput, match="not awaiting approval"), db.unit_of_work() as s:
        lifecycle.approve(s, analyst.principal(db), dataset_id)


def test_every_state_write_is_in_the_lifecycle_module():
    """``state=`` written anywhere else in the package is a second owner of the machine."""
    offenders = []
    for path in OGCRM.rglob("*.py"):
        if path.name == "lifecycle.py" and path.parent.name == "datasets":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "state":
                value = ast.unparse(node.value)
                if "DatasetState" in value:
                    offenders.append(f"{path.relative_to(OGCRM)}:{node.value.lineno} {value}")
    assert offenders == []


def _in_state(db, tmp_path, state: DatasetState) -> int:
    path = tmp_path / f"{state}.csv"
    path.write_text(CSV + f"{state} Oil Co.,42-003-12346\n")
    with db.unit_of_work() as s:
        dataset_id = receive(s, system_principal("test"), path, data_dir=tmp_path).dataset_id
        s.execute(update(Dataset).where(Dataset.id == dataset_id).values(state=state))
    return dataset_id


#: each guarded move of the machine, and the one state it leaves
MOVES = {
    "claim": (DatasetState.RECEIVED, lambda s, i: lifecycle.claim(s, i)),
    "finish_processing": (DatasetState.PROCESSING, lifecycle.finish_processing),
    "release": (DatasetState.PROCESSING, lifecycle.release),
    "fail_processing": (DatasetState.PROCESSING, lambda s, i: lifecycle.fail_processing(s, i, "x")),
    "reject": (DatasetState.AWAITING_REVIEW, lambda s, i: lifecycle.reject(s, P, i)),
    "give_up_merge": (DatasetState.AWAITING_REVIEW, lifecycle.give_up_merge),
    "start_merge": (DatasetState.AWAITING_REVIEW, lambda s, i: lifecycle.start_merge(s, P, i)),
    "finish_merge": (DatasetState.MERGING, lifecycle.finish_merge),
    "finish_revert": (DatasetState.MERGED, lifecycle.finish_revert),
}
P = system_principal("test")


@pytest.mark.parametrize("move", sorted(MOVES))
def test_a_move_changes_nothing_from_any_other_state(db, tmp_path, move):
    leaves, apply = MOVES[move]
    for state in DatasetState:
        if state == leaves:
            continue
        dataset_id = _in_state(db, tmp_path, state)
        with db.unit_of_work() as s:
            try:
                moved = apply(s, dataset_id)
            except InvalidInput:
                moved = False
        with db.read() as s:
            assert s.get(Dataset, dataset_id).state == state, (move, state)
        assert moved is False, (move, state)


@pytest.mark.parametrize("move", sorted(MOVES))
def test_a_move_is_one_the_machine_allows(db, tmp_path, move):
    leaves, apply = MOVES[move]
    dataset_id = _in_state(db, tmp_path, leaves)
    with db.unit_of_work() as s:
        apply(s, dataset_id)
    with db.read() as s:
        after = s.get(Dataset, dataset_id).state
    assert after != leaves and (leaves, after) in lifecycle.TRANSITIONS
