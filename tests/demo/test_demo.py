"""``ogcrm demo`` as a new user runs it: generated agency files imported through the
real pipeline, a ranking with reasons, the sales team's work, users for every role and
a way back in when the passwords are lost."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from ogcrm.auth.passwords import verify_password
from ogcrm.cli import main
from ogcrm.config import Settings
from ogcrm.datasets.intake import sniff_file
from ogcrm.db.models import (
    Campaign,
    CampaignMember,
    CellIssue,
    Contact,
    Dataset,
    MatchDecision,
    Opportunity,
    Order,
    Organization,
    OutboundMessageRecord,
    ServiceRequest,
    StagedRow,
    Task,
    User,
)
from ogcrm.db.session import Database
from ogcrm.demo.samples import write_samples
from ogcrm.plugins import default_registry
from tests.conftest import TEST_SECRET_KEY


@pytest.fixture
def runner(tmp_path: Path, monkeypatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for var in ("OGCRM_DATABASE_URL", "OGCRM_REDIS_URL", "OGCRM_DATA_DIR", "OGCRM_SMTP_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OGCRM_SECRET_KEY", TEST_SECRET_KEY)
    return CliRunner()


def test_the_samples_are_four_formats_each_detected_by_content(tmp_path: Path):
    files = write_samples(tmp_path, today=dt.date(2026, 12, 1))
    formats = {f.path.name: sniff_file(f.path, default_registry()).format for f in files}
    assert formats == {
        "tx-permits.dat": "fixed-width",
        "co-wells.csv": "csv",
        "operators.xml": "xml",
        "nd-production.xlsx": "xlsx",
    }
    again = tmp_path / "again"
    write_samples(again, today=dt.date(2026, 12, 1))
    for f in files:  # deterministic: the same day gives the same bytes
        assert (again / f.path.name).read_bytes() == f.path.read_bytes(), f.path.name


@pytest.fixture
def demo(runner: CliRunner, database_url: str) -> dict:
    result = runner.invoke(main, ["--database-url", database_url, "demo", "--no-serve", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_demo_imports_every_sample_through_review_and_explains_the_ranking(
    demo: dict, database_url: str, tmp_path: Path
):
    assert demo["seeded"] is True
    imports = {i["filename"]: i for i in demo["imports"]}
    assert {n: (i["source"], i["state"]) for n, i in imports.items()} == {
        "tx-permits.dat": ("tx-rrc-permits", "merged"),
        "co-wells.csv": ("co-ecmc-wells", "merged"),
        "operators.xml": ("boem-companies", "merged"),
        "nd-production.xlsx": ("nd-dmr-production", "merged"),
    }
    wells = imports["co-wells.csv"]
    assert (wells["quarantined"], wells["duplicates"]) == (1, 1)  # the ragged row, the copy
    assert wells["corrections"] > 30  # API shapes, date forms, the swapped coordinate
    assert imports["nd-production.xlsx"]["duplicates"] == 1
    assert demo["decision"] == (
        "'SANDHILL RESOURCES WILLISTON' is 'Sandhill Resources LLC': same company"
    )
    top = demo["top"]
    assert len(top) == 5 and top[0]["name"] == "CAPROCK ENERGY PARTNERS, L.L.C."
    assert [p["priority"] for p in top] == sorted((p["priority"] for p in top), reverse=True)
    for account in top:  # every ranked account says which rules put it there
        assert account["why"] and sum(c for _, c in account["why"]) == account["priority"]
    assert dict(top[0]["why"])["fresh permits"] > 0
    assert "gone quiet" not in dict(top[0]["why"])  # the rep called them two days ago

    db = Database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        with db.read() as s:
            count = lambda model: s.scalar(select(func.count()).select_from(model))  # noqa: E731
            ragged = s.scalars(select(StagedRow).where(StagedRow.outcome == "quarantined")).one()
            reason = s.scalars(
                select(CellIssue.message).where(
                    CellIssue.dataset_id == ragged.dataset_id,
                    CellIssue.row_number == ragged.row_number,
                    CellIssue.cleaner == "reader",
                )
            ).one()
            assert "4 fields" in reason and "12" in reason, reason
            assert count(Dataset) == 4 and count(MatchDecision) == 1
            assert {u.email.split("@")[0] for u in s.scalars(select(User))} == {
                "admin",
                "manager",
                "rep1",
                "rep2",
                "analyst",
            }
            # the merge's routing rules gave every new account to its region's rep
            assert s.scalar(select(func.count()).where(Organization.owner_id.is_(None))) == 0
            assert (count(Task), count(Opportunity), count(Order), count(ServiceRequest)) == (
                3,
                2,
                1,
                1,
            )
            assert s.scalars(select(ServiceRequest)).one().assignee_id is not None  # routed
            campaign = s.scalars(select(Campaign)).one()
            assert campaign.status == "active"
            members = s.scalars(select(CampaignMember)).all()
            opted_out = s.scalars(select(Contact).where(Contact.consent == "denied")).one()
            assert opted_out.id not in {m.contact_id for m in members}
            assert {m.status for m in s.scalars(select(OutboundMessageRecord))} == {"sent"}
    finally:
        db.dispose()
    outbox = (tmp_path / "outbox.jsonl").read_text().splitlines()
    assert len(outbox) == len(members) >= 2


def test_a_second_run_keeps_the_demo_and_passwords_can_be_reset(
    demo: dict, runner: CliRunner, database_url: str, tmp_path: Path
):
    args = ["--database-url", database_url, "demo", "--no-serve", "--json"]
    again = json.loads(runner.invoke(main, args).output.strip().splitlines()[-1])
    assert again["seeded"] is False and again["logins"] == {} and len(again["top"]) == 5
    reset = runner.invoke(main, [*args, "--reset-passwords"])
    logins = json.loads(reset.output.strip().splitlines()[-1])["logins"]
    assert set(logins) == {u["email"] for u in demo["users"]}
    set_one = runner.invoke(
        main,
        ["--database-url", database_url, "user", "set-password", "rep1@demo.ogcrm.test"],
        input="a-new-Passw0rd-for-rep1\n",
    )
    assert set_one.exit_code == 0, set_one.output
    db = Database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        with db.read() as s:
            hashes = {u.email: u.password_hash for u in s.scalars(select(User))}
    finally:
        db.dispose()
    assert verify_password(logins["admin@demo.ogcrm.test"], hashes["admin@demo.ogcrm.test"])[0]
    assert not verify_password(demo["logins"]["admin@demo.ogcrm.test"],
                               hashes["admin@demo.ogcrm.test"])[0]  # fmt: skip
    assert verify_password("a-new-Passw0rd-for-rep1", hashes["rep1@demo.ogcrm.test"])[0]
    unknown = runner.invoke(
        main, ["--database-url", database_url, "user", "set-password", "nobody@x.test"],
        input="a-new-Passw0rd-for-rep1\n",
    )  # fmt: skip
    assert unknown.exit_code == 1 and "no user nobody@x.test" in unknown.output


def test_a_sample_that_fails_to_import_stops_the_demo_saying_which_and_why(
    runner: CliRunner, database_url: str, monkeypatch
):
    """Going on would rank accounts that were never imported, and print a summary of an
    import that did not happen."""
    from ogcrm.demo import seed

    def broken_first(directory: Path, *, today: dt.date):
        files = write_samples(directory, today=today)
        files[0].path.write_bytes(b"PERMIT\x00NUMBER\n\x00\x00\x00\n")  # NUL bytes: refused
        return files

    monkeypatch.setattr(seed, "write_samples", broken_first)
    result = runner.invoke(main, ["--database-url", database_url, "demo", "--no-serve", "--json"])
    assert result.exit_code == 1
    assert "the demo's tx-permits.dat failed to import:" in result.output
    assert "not a format ogcrm reads" in result.output  # the reason, from the pipeline


def test_a_sample_the_worker_never_finishes_stops_the_demo(
    runner: CliRunner, database_url: str, monkeypatch
):
    from ogcrm.demo import seed

    monkeypatch.setattr(seed, "WAIT_SECONDS", 0.0)
    monkeypatch.setattr(seed.InProcessWorker, "start", lambda self: None)  # nothing runs
    result = runner.invoke(main, ["--database-url", database_url, "demo", "--no-serve", "--json"])
    assert result.exit_code == 1
    assert "the demo's tx-permits.dat is still received after 0 s" in result.output
