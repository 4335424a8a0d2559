"""Rule sets end to end: features from merged rows and CRM activity, validation, saving,
activation with a set-based rescore, explanations, history, overrides, preview."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, literal, literal_column, select

from ogcrm.auth.principal import system_principal
from ogcrm.db.migrate import check
from ogcrm.db.models import (
    Interaction,
    InteractionKind,
    Organization,
    OrganizationScore,
    Permit,
    ProductionReport,
    RuleSet,
    RuleSetStatus,
    ScoreSnapshot,
    Tag,
    Task,
    Well,
)
from ogcrm.db.models.crm import organization_tag
from ogcrm.rules.ruleset import RuleSetInvalid, parse
from ogcrm.scoring import rescore as rescore_module
from ogcrm.scoring.features import features_select, scorer_columns
from ogcrm.scoring.overrides import set_override
from ogcrm.scoring.rescore import preview, rescore
from ogcrm.scoring.rule_sets import activate, explain, save_rule_set, stored_score

NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
TODAY = NOW.date()

RULES = {
    "name": "Permian priorities",
    "rules": [
        {"name": "fresh permits", "logic": {">=": [{"var": "permits_90d"}, 2]}, "weight": 10},
        {"name": "oil volume", "logic": {"/": [{"var": "oil_bbl_12m"}, 1000]}, "weight": 1},
        {
            "name": "gone quiet",
            "logic": {">": [{"var": ["days_since_last_interaction", 9999]}, 30]},
            "weight": 5,
        },
        {"name": "vip", "logic": {"in": ["vip", {"var": "tags"}]}, "weight": 3},
        {"name": "disabled", "logic": True, "weight": 100, "enabled": False},
    ],
}


@pytest.fixture
def crm(db):
    """Three operators: busy (permits, oil, tagged vip, called yesterday), quiet (one
    old permit, never called, an overdue task) and empty."""
    with db.unit_of_work() as s:
        busy = Organization(name="Busy Oil LLC", normalized_name="BUSY OIL")
        quiet = Organization(name="Quiet Gas Co.", normalized_name="QUIET GAS")
        empty = Organization(name="Empty Holdings", normalized_name="EMPTY HOLDINGS")
        s.add_all([busy, quiet, empty])
        s.flush()
        for n, days in enumerate([5, 40, 80]):
            s.add(
                Permit(
                    agency="tx-rrc",
                    permit_number=f"B{n}",
                    operator_id=busy.id,
                    issued_on=TODAY - dt.timedelta(days=days),
                )
            )
        s.add(
            Permit(
                agency="tx-rrc",
                permit_number="Q1",
                operator_id=quiet.id,
                issued_on=TODAY - dt.timedelta(days=200),
            )
        )
        s.add_all(
            [
                Well(
                    api10="4200312345",
                    operator_id=busy.id,
                    status="PR",
                    county="Andrews",
                    spud_date=TODAY - dt.timedelta(days=100),
                ),
                Well(api10="4200312346", operator_id=busy.id, status="PA", county="Ward"),
                Well(api10="4200312347", operator_id=quiet.id, status="SI", county="Ward"),
            ]
        )
        s.flush()
        well_id = s.scalar(select(Well.id).where(Well.api10 == "4200312345"))
        for m, oil in ((1, 3000.0), (3, 2000.0), (8, 1000.0)):
            month = dt.date(2026, 11 - m, 1)
            s.add(
                ProductionReport(
                    well_id=well_id, operator_id=busy.id, month=month, oil_bbl=oil, gas_mcf=600.0
                )
            )
        s.add(
            Interaction(
                organization_id=busy.id,
                kind=InteractionKind.CALL,
                occurred_at=NOW - dt.timedelta(days=1),
            )
        )
        s.add(Task(organization_id=quiet.id, title="call back", due_at=NOW - dt.timedelta(days=3)))
        tag = Tag(name="vip")
        s.add(tag)
        s.flush()
        s.execute(organization_tag.insert().values(organization_id=busy.id, tag_id=tag.id))
        return {"busy": busy.id, "quiet": quiet.id, "empty": empty.id}


def test_features_are_computed_from_merged_rows_and_activity(db, crm):
    with db.read() as s:
        rows = {
            r["organization_id"]: r
            for r in s.execute(features_select(s.get_bind().dialect.name, now=NOW)).mappings()
        }
    busy, quiet, empty = rows[crm["busy"]], rows[crm["quiet"]], rows[crm["empty"]]
    assert (busy["permits_30d"], busy["permits_90d"], busy["permits_365d"]) == (1, 3, 3)
    assert (quiet["permits_90d"], quiet["permits_365d"]) == (0, 1)
    assert (busy["active_wells"], busy["new_wells_12m"], busy["counties"]) == (1, 1, 2)
    assert busy["oil_bbl_12m"] == 6000.0 and busy["gas_mcf_12m"] == 1800.0
    # last 6 months 5,200 BOE against 1,100 before
    assert busy["production_trend"] == pytest.approx((5200 - 1100) / 1100)
    assert quiet["production_trend"] is None
    assert busy["days_since_last_interaction"] == 1
    assert quiet["days_since_last_interaction"] is None
    assert (quiet["overdue_tasks"], busy["overdue_tasks"]) == (1, 0)
    assert busy["tags"] == ",vip," and empty["tags"] == ","
    assert empty["permits_90d"] == 0 and empty["oil_bbl_12m"] == 0


@pytest.mark.parametrize(
    "wanted",
    [{"permits_30d"}, {"permits_90d"}, {"permits_30d", "permits_90d"}, {"permits_365d", "tags"}],
)
def test_a_caller_asking_for_some_features_gets_the_same_values(db, crm, wanted):
    """A segment asks only for the features it names (the permit scorer then reads
    permits as old as its widest window); the values must not differ from a full run."""
    organization = Organization.__table__
    with db.read() as s:
        dialect = s.get_bind().dialect.name
        full = {
            r["organization_id"]: r for r in s.execute(features_select(dialect, now=NOW)).mappings()
        }
        subqueries, columns = scorer_columns(dialect, now=NOW, wanted=frozenset(wanted))
        assert set(columns) == wanted
        assert len(subqueries) == len({"permits" if "permit" in n else "activity" for n in wanted})
        joined = organization
        for sub in subqueries:
            joined = joined.outerjoin(sub, sub.c.organization_id == organization.c.id)
        stmt = select(organization.c.id, *(c.label(n) for n, c in columns.items()))
        rows = s.execute(stmt.select_from(joined)).mappings().all()
    assert len(rows) == len(full) == 3
    for row in rows:
        assert {n: row[n] for n in wanted} == {n: full[row["id"]][n] for n in wanted}


def test_activation_rescores_everyone_with_explanations_and_history(db, crm):
    principal = system_principal("test")
    with db.unit_of_work() as s:
        rule_set = save_rule_set(s, principal, parse(RULES))
        result = activate(s, principal, rule_set.id, now=NOW)
    assert result.organizations == 3 and result.snapshots == 3
    with db.read() as s:
        orgs = {o.id: o for o in s.scalars(select(Organization))}
        busy, quiet, empty = orgs[crm["busy"]], orgs[crm["quiet"]], orgs[crm["empty"]]
        # busy: 3 permits in 90 days (10) + 6,000 bbl / 1000 (6) + vip (3); called yesterday
        assert busy.score == pytest.approx(19.0) and busy.priority == pytest.approx(19.0)
        stored = stored_score(s, busy.id)
        assert {e["rule"]: e["contribution"] for e in stored.explanation} == {
            "fresh permits": 10,
            "oil volume": 6,
            "vip": 3,
        }
        # quiet and empty were never called: the default 9999 days makes them "gone quiet"
        assert quiet.score == 5.0 and empty.score == 5.0
        assert s.scalar(select(func.count()).select_from(ScoreSnapshot)) == 3
    # the interpreter explains one organization the same way
    with db.read() as s:
        explained = explain(s, crm["busy"], now=NOW)
    assert explained.score == pytest.approx(19.0)
    assert explained.features["tags"] == ["vip"]
    # rescoring with nothing changed adds no history
    with db.unit_of_work() as s:
        again = rescore(s, now=NOW)
    assert (again.organizations, again.snapshots) == (3, 0)


def test_a_rescore_writes_only_the_scores_that_moved(db, crm):
    """A nightly rescore mostly changes nothing: it must rewrite no score (it rewrote
    every one, which made it slower than the first). ``scoredAt`` is when the score
    last changed; on PostgreSQL the rows are untouched (their ``xmin`` stays)."""
    principal = system_principal("test")
    with db.unit_of_work() as s:
        activate(s, principal, save_rule_set(s, principal, parse(RULES)).id, now=NOW)

    def state() -> dict[int, tuple]:
        with db.read() as s:
            pg = s.get_bind().dialect.name == "postgresql"
            xmin = literal_column("xmin::text") if pg else literal("")
            rows = s.execute(
                select(
                    OrganizationScore.organization_id,
                    OrganizationScore.score,
                    OrganizationScore.scored_at,
                    xmin,
                )
            )
            return {r[0]: (r[1], r[2].replace(tzinfo=None), r[3]) for r in rows}

    before = state()
    later = NOW + dt.timedelta(hours=1)
    with db.unit_of_work() as s:
        again = rescore(s, now=later)  # everyone, nothing changed
    assert again.organizations == 3 and state() == before
    with db.unit_of_work() as s:
        s.add(Interaction(organization_id=crm["quiet"], kind=InteractionKind.CALL,
                          occurred_at=later))  # fmt: skip
    with db.unit_of_work() as s:
        rescore(s, now=later)
    after = state()
    assert after[crm["quiet"]][0] == 0.0  # no longer gone quiet
    assert after[crm["quiet"]][1] == later.replace(tzinfo=None)
    assert {k: v for k, v in after.items() if k != crm["quiet"]} == {
        k: v for k, v in before.items() if k != crm["quiet"]
    }


def test_override_with_reason_wins_until_it_expires(db, crm):
    principal = system_principal("test")
    with db.unit_of_work() as s:
        activate(s, principal, save_rule_set(s, principal, parse(RULES)).id, now=NOW)
        set_override(s, principal, crm["empty"], priority=99.0, reason="board member's cousin")
        set_override(
            s,
            principal,
            crm["quiet"],
            priority=50.0,
            reason="trade show lead",
            expires_at=NOW - dt.timedelta(days=1),
        )
        rescore(s, now=NOW)
    with db.read() as s:
        empty = s.get(Organization, crm["empty"])
        quiet = s.get(Organization, crm["quiet"])
        assert (empty.priority, empty.score, empty.override_reason) == (
            99.0,
            5.0,
            "board member's cousin",
        )
        assert quiet.priority == 5.0  # the pin expired: the score is back in charge


def test_scores_table_after_a_full_rescore_keeps_its_schema_and_rules(db, crm, monkeypatch):
    """A full rescore may replace ``organization_score`` whole (PostgreSQL, when many
    scores moved: here whenever any did): the schema is still the migrations', new
    organizations still get a score row, deleting an organization still removes it,
    and a partial rescore updates it in place."""
    monkeypatch.setattr(rescore_module, "SWAP_AT", 0)
    principal = system_principal("test")
    with db.unit_of_work() as s:
        activate(s, principal, save_rule_set(s, principal, parse(RULES)).id, now=NOW)
    check(db.engine)  # raises if the swapped-in table differs from the models
    with db.unit_of_work() as s:
        late = Organization(name="Late Arrival LLC", normalized_name="LATE ARRIVAL")
        s.add(late)
        s.flush()
        result = rescore(s, organization_ids=[late.id], now=NOW)
        late_id = late.id
    assert (result.organizations, result.snapshots) == (1, 1)
    with db.unit_of_work() as s:
        assert stored_score(s, late_id).score == 5.0  # never called: "gone quiet"
        s.delete(s.get(Organization, crm["empty"]))
    with db.read() as s:
        ids = set(s.scalars(select(OrganizationScore.organization_id)))
    assert ids == {crm["busy"], crm["quiet"], late_id}


def test_activating_a_new_version_archives_the_old(db, crm):
    principal = system_principal("test")
    with db.unit_of_work() as s:
        first = save_rule_set(s, principal, parse(RULES))
        activate(s, principal, first.id, now=NOW)
        second = save_rule_set(s, principal, parse({**RULES, "rules": RULES["rules"][:1]}))
        activate(s, principal, second.id, now=NOW)
        first_id, second_id = first.id, second.id
    with db.read() as s:
        statuses = dict(s.execute(select(RuleSet.id, RuleSet.status)).all())
        versions = dict(s.execute(select(RuleSet.id, RuleSet.version)).all())
    assert statuses == {first_id: RuleSetStatus.ARCHIVED, second_id: RuleSetStatus.ACTIVE}
    assert versions == {first_id: 1, second_id: 2}


def test_preview_shows_top_and_movers_without_writing(db, crm):
    principal = system_principal("test")
    with db.unit_of_work() as s:
        activate(s, principal, save_rule_set(s, principal, parse(RULES)).id, now=NOW)
    draft = parse(
        {
            "name": "Follow-ups first",
            "rules": [
                {"name": "overdue", "logic": {">": [{"var": "overdue_tasks"}, 0]}, "weight": 40}
            ],
        }
    )
    with db.unit_of_work() as s:
        before = s.scalar(select(func.count()).select_from(ScoreSnapshot))
        result = preview(s, draft, top=2, now=NOW)
        assert s.scalar(select(func.count()).select_from(ScoreSnapshot)) == before
    assert [r.organization_id for r in result.top] == [crm["quiet"], crm["busy"]]
    assert [(r.organization_id, r.change) for r in result.up] == [(crm["quiet"], 35.0)]
    assert result.down[0].organization_id == crm["busy"] and result.down[0].change == -19.0
    with db.read() as s:
        assert s.get(Organization, crm["quiet"]).score == 5.0  # nothing written


@pytest.mark.parametrize(
    ("logic", "path", "message"),
    [
        (
            {">": [{"var": "permits_99d"}, 1]},
            "/rules/0/logic/>/0/var",
            "unknown feature 'permits_99d'",
        ),
        ({"frobnicate": [1]}, "/rules/0/logic/frobnicate", "unknown operator 'frobnicate'"),
        ({"<": [{"var": "tags"}, 3]}, "/rules/0/logic/<", "comparing a list with a number"),
        (
            {"/": [1, {"var": "active_wells"}]},
            "/rules/0/logic/~1/1",
            "divisor must be a non-zero number",
        ),
    ],
)
def test_invalid_rules_are_refused_with_the_json_path(db, logic, path, message):
    spec = parse({"name": "bad", "rules": [{"name": "r", "logic": logic, "weight": 1}]})
    with pytest.raises(RuleSetInvalid) as info, db.unit_of_work() as s:
        save_rule_set(s, system_principal("test"), spec)
    (fault,) = info.value.faults
    assert (fault.rule, fault.path) == ("r", path)
    assert message in fault.message


def test_depth_is_bounded(db):
    logic: object = {"var": "permits_90d"}
    for _ in range(14):
        logic = {"!": [logic]}
    spec = parse({"name": "deep", "rules": [{"name": "deep", "logic": logic, "weight": 1}]})
    with (
        pytest.raises(RuleSetInvalid, match="nested deeper than 12 levels"),
        db.unit_of_work() as s,
    ):
        save_rule_set(s, system_principal("test"), spec)


def test_a_merge_rescores_the_organizations_it_touched(db, tmp_path, shared_data):
    """The merge job queues `rules.rescore` for what it changed; run here in-process."""
    from dataclasses import replace as dc_replace

    import dramatiq

    from ogcrm.config import Settings
    from ogcrm.datasets import tasks
    from ogcrm.datasets.intake import receive
    from ogcrm.jobs.runtime import JobRuntime
    from ogcrm.worker import build_broker

    principal = system_principal("test")
    with db.unit_of_work() as s:
        activate(s, principal, save_rule_set(s, principal, parse(RULES)).id, now=NOW)
    rt = JobRuntime(db, tmp_path)
    broker = build_broker(dc_replace(Settings(data_dir=tmp_path), redis_url=""), rt)
    with db.unit_of_work() as s:
        dataset_id = receive(
            s,
            principal,
            shared_data / "real" / "tx-rrc-drilling-permits-daf420.dat",
            data_dir=tmp_path,
        ).dataset_id
    tasks.process_dataset(rt, dataset_id)
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    try:
        tasks.merge_dataset(rt, dataset_id)
        broker.join("rules", fail_fast=True)
    finally:
        worker.stop()
    with db.read() as s:
        apache = s.scalars(
            select(Organization).where(Organization.name == "APACHE CORPORATION")
        ).one()
        snapshots = s.scalar(select(func.count()).where(ScoreSnapshot.organization_id == apache.id))
        stored = stored_score(s, apache.id)
    assert stored.scored_at is not None and snapshots == 1
    assert {e["rule"] for e in stored.explanation} >= {"gone quiet"}


def test_two_activations_at_once_leave_one_active_set(db, monkeypatch):
    """Both archive the (no) active set, wait, then both try to become active: one wins,
    the other is told it lost (a Conflict), never an unexpected error."""
    import threading

    from ogcrm.errors import Conflict

    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serializes writers before they overlap")
    principal = system_principal("test")
    with db.unit_of_work() as s:
        ids = [save_rule_set(s, principal, parse(RULES)).id for _ in range(2)]
    monkeypatch.setenv("OGCRM_FAILPOINT", "rules.activate.after_archive:sleep=1")
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def activate_one(rule_set_id: int) -> None:
        start.wait()
        try:
            with db.unit_of_work() as s:
                activate(s, principal, rule_set_id, now=NOW)
            outcomes.append("active")
        except Conflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=activate_one, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(type, outcomes), key=str) == sorted([str, Conflict], key=str), outcomes
    with db.read() as s:
        assert s.scalar(select(func.count()).where(RuleSet.status == RuleSetStatus.ACTIVE)) == 1
