"""``ogcrm demo``'s set-up: the product's own flows, run end to end on generated files.

Nothing here writes a table directly where a service exists: users are created, files
uploaded and processed by the job worker, reviewed (one match decision), approved and
merged by jobs, accounts routed by the routing rules and ranked by a rule set, and the
sales work added through the sales services, each as the demo user who would do it.
So the demo is also a smoke test of the whole product: if a flow breaks, the demo does.

Demo users get random passwords, returned once: an installation never has a known
default password (``ogcrm demo --reset-passwords`` or ``ogcrm user set-password``).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ogcrm.accounts import contacts, routing, segments
from ogcrm.accounts.interactions import log_interaction
from ogcrm.auth.principal import Principal, system_principal
from ogcrm.auth.users import acting_as, create_user, set_password
from ogcrm.config import Settings
from ogcrm.datasets import lifecycle, review, service
from ogcrm.datasets.intake import content_hash
from ogcrm.db.models import (
    ConsentStatus,
    Dataset,
    DatasetState,
    MatchVerdict,
    OpportunitySource,
    OpportunityStage,
    Organization,
    OrganizationIdentifier,
    OrganizationScore,
    ServiceRequestPriority,
    Source,
    User,
)
from ogcrm.db.session import Database
from ogcrm.demo.samples import CANDIDATE_NAME, OPERATORS, SampleFile, write_samples
from ogcrm.errors import DomainError
from ogcrm.jobs.broker import InProcessWorker
from ogcrm.jobs.runtime import JobRuntime
from ogcrm.rules.ruleset import parse
from ogcrm.sales import campaigns, opportunities, orders, service_requests, tasks
from ogcrm.scoring.rule_sets import activate, save_rule_set, stored_score

#: How long one sample file may take through the in-process worker (each takes about
#: a second on a small machine).
WAIT_SECONDS = 300.0

DEMO_USERS = (
    ("admin@demo.ogcrm.test", "Dana Admin", "admin"),
    ("manager@demo.ogcrm.test", "Morgan Manager", "manager"),
    ("rep1@demo.ogcrm.test", "Riley Permian", "sales"),
    ("rep2@demo.ogcrm.test", "Reese Rockies", "sales"),
    ("analyst@demo.ogcrm.test", "Avery Analyst", "analyst"),
)

#: The rule set a sales manager would recognize; written beside the sample files too,
#: so it can be edited and tried (``ogcrm rules preview``).
RULE_SET: dict[str, Any] = {
    "name": "Demo priorities",
    "description": "Who to call first: operators drilling now, growing, big, or gone quiet.",
    "rules": [
        {
            "name": "fresh permits",
            "description": "each permit in the last 30 days: new wells need services now",
            "logic": {"var": "permits_30d"},
            "weight": 6,
        },
        {
            "name": "drilling program",
            "description": "five or more permits in a year: a steady driller",
            "logic": {">=": [{"var": "permits_365d"}, 5]},
            "weight": 10,
        },
        {
            "name": "production growth",
            "description": "last six months' output up 20% or more on the six before",
            "logic": {">=": [{"var": ["production_trend", 0]}, 0.2]},
            "weight": 20,
        },
        {
            "name": "big producer",
            "description": "over 100,000 barrels of oil in twelve months",
            "logic": {">": [{"var": "oil_bbl_12m"}, 100000]},
            "weight": 25,
        },
        {
            "name": "gone quiet",
            "description": "nobody has spoken to them for 30 days (or ever)",
            "logic": {">": [{"var": ["days_since_last_interaction", 9999]}, 30]},
            "weight": 8,
        },
    ],
}


@dataclass
class Imported:
    title: str
    filename: str
    dataset_id: int
    source: str | None
    state: str
    rows: int
    corrections: int
    quarantined: int
    duplicates: int
    dirt: tuple[str, ...]
    created: dict[str, int] = field(default_factory=dict)


@dataclass
class Summary:
    seeded: bool
    imports: list[Imported] = field(default_factory=list)
    decision: str | None = None
    top: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, str]] = field(default_factory=list)
    #: e-mail -> password, only when they were (re)set by this run
    logins: dict[str, str] = field(default_factory=dict)
    samples: str | None = None


class Reporter:
    """What the set-up tells the person running it; the CLI draws progress bars."""

    def step(self, text: str) -> None:
        """A step begins (the CLI prints it; ``--json`` and tests say nothing)."""

    def bar(self, label: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
        @contextmanager
        def nothing() -> Iterator[Callable[[int], None]]:
            yield lambda n: None

        return nothing()


def _new_password() -> str:
    return secrets.token_urlsafe(12)


def reset_passwords(db: Database) -> dict[str, str]:
    """New random passwords for the demo users there are (each's sessions end)."""
    logins: dict[str, str] = {}
    with db.unit_of_work() as session:
        for email, _, _ in DEMO_USERS:
            if session.scalar(select(User.id).where(User.email == email)) is None:
                continue
            password = _new_password()
            set_password(session, system_principal("demo"), email=email, password=password)
            logins[email] = password
    return logins


def _users(db: Database) -> tuple[dict[str, Principal], dict[str, str]]:
    logins: dict[str, str] = {}
    with db.unit_of_work() as session:
        for email, name, role in DEMO_USERS:
            password = _new_password()
            create_user(
                session,
                email=email,
                name=name,
                role=role,
                password=password,
                principal=system_principal("demo"),
            )
            logins[email] = password
    with db.read() as session:
        people = {email.split("@")[0]: acting_as(session, email) for email, _, _ in DEMO_USERS}
    return people, logins


def _routing(db: Database, people: dict[str, Principal]) -> None:
    """New prospects go to the rep of their region; everything else stays unowned."""
    rules = [
        routing.RuleInput(
            "Permian prospects to Riley",
            {"==": [{"var": "basin"}, "PERMIAN"]},
            assign_user_id=people["rep1"].user_id,
            applies_to=routing.ORGANIZATION,
        ),
        routing.RuleInput(
            "Rockies and Bakken prospects to Reese",
            {"in": [{"var": "state"}, ["CO", "ND"]]},
            assign_user_id=people["rep2"].user_id,
            applies_to=routing.ORGANIZATION,
        ),
        routing.RuleInput(
            "Bakken field service to Reese",
            {"==": [{"var": "basin"}, "BAKKEN"]},
            assign_user_id=people["rep2"].user_id,
        ),
    ]
    with db.unit_of_work() as session:
        routing.save_rules(session, people["admin"], rules)


class DemoStopped(DomainError):
    """A sample file did not go through the pipeline: the demo stops and says why,
    rather than going on to rank accounts that were never imported."""


def _wait(
    db: Database, dataset_id: int, states: set[DatasetState], timeout: float, name: str
) -> Dataset:
    """The dataset once it reaches one of ``states``; ``DemoStopped`` when it failed or
    is still on its way after ``timeout`` seconds (the worker stopped or is stuck)."""
    deadline = time.monotonic() + timeout
    while True:
        with db.read() as session:
            dataset = lifecycle.get(session, dataset_id)
            session.expunge(dataset)
        if dataset.state == DatasetState.FAILED:
            raise DemoStopped(f"the demo's {name} failed to import: {dataset.error}")
        if dataset.state in states:
            return dataset
        if time.monotonic() > deadline:
            raise DemoStopped(
                f"the demo's {name} is still {dataset.state.value} after {timeout:.0f} s: "
                "the in-process worker did not finish it"
            )
        time.sleep(0.1)


def _import(
    db: Database,
    settings: Settings,
    analyst: Principal,
    sample: SampleFile,
    reporter: Reporter,
    decide: Callable[[int], str | None],
) -> tuple[Imported, str | None]:
    """Upload as the analyst, let the worker process it (progress by bytes is the
    file's size: staging is a single pass), review, approve, wait for the merge."""
    upload = settings.data_dir / "files" / f"upload-{secrets.token_hex(6)}"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(sample.path.read_bytes())
    with db.unit_of_work() as session:
        received = service.upload(
            session,
            analyst,
            upload,
            digest=content_hash(upload),
            filename=sample.path.name,
            data_dir=settings.data_dir,
        )
    size = sample.path.stat().st_size
    resting = {DatasetState.AWAITING_REVIEW, DatasetState.MERGED}
    with reporter.bar(f"importing {sample.path.name}", size) as advance:
        dataset = _wait(db, received.dataset_id, resting, WAIT_SECONDS, sample.path.name)
        advance(size)
    decision = None
    if dataset.state == DatasetState.AWAITING_REVIEW:
        decision = decide(dataset.id)
        with db.unit_of_work() as session:
            service.approve(session, analyst, dataset.id)
        with reporter.bar(f"merging {sample.path.name}", dataset.rows_read or 1) as advance:
            dataset = _wait(db, dataset.id, {DatasetState.MERGED}, WAIT_SECONDS, sample.path.name)
            advance(dataset.rows_read or 1)
    with db.read() as session:
        source = session.get(Source, dataset.source_id) if dataset.source_id else None
        name = source.name if source is not None else None
    counts = dataset.counts or {}
    return (
        Imported(
            title=sample.title,
            filename=sample.path.name,
            dataset_id=dataset.id,
            source=name,
            state=str(dataset.state),
            rows=dataset.rows_read or 0,
            corrections=dataset.rows_fixed or 0,
            quarantined=dataset.rows_quarantined or 0,
            duplicates=dataset.rows_duplicate or 0,
            dirt=sample.dirt,
            created={k: v for k, v in counts.get("created", {}).items() if v},
        ),
        decision,
    )


def _decider(db: Database, analyst: Principal) -> Callable[[int], str | None]:
    """The analyst's one match decision: the directory's company and the production
    file's district spelling of it are the same operator."""

    def decide(dataset_id: int) -> str | None:
        with db.read() as session:
            found = [c for c in review.candidates(session, dataset_id) if c.name == CANDIDATE_NAME]
        if not found:
            return None
        candidate = found[0]
        with db.unit_of_work() as session:
            service.decide_match(
                session,
                analyst,
                dataset_id,
                candidate.name,
                candidate.organization_id,
                MatchVerdict.SAME,
                note="the Williston district of the same company (demo)",
            )
        return f"{candidate.name!r} is {candidate.organization_name!r}: same company"

    return decide


def _org(session: Any, operator: Any) -> Organization:
    """The account an operator of the sample files became, by its directory number
    (its name is spelled as the file that created it spelled it)."""
    org = session.scalars(
        select(Organization)
        .join(OrganizationIdentifier, OrganizationIdentifier.organization_id == Organization.id)
        .where(
            OrganizationIdentifier.agency == "boem",
            OrganizationIdentifier.identifier == operator.number,
        )
    ).first()
    if org is None:
        raise LookupError(f"the demo expected an account for {operator.name!r}")
    return org


def _sales_work(db: Database, people: dict[str, Principal], today: dt.date) -> None:
    """A week of a sales team's work on the ranked accounts, through the services."""
    now = dt.datetime.combine(today, dt.time(15), tzinfo=dt.UTC)
    rep1, rep2, manager, admin = people["rep1"], people["rep2"], people["manager"], people["admin"]
    with db.unit_of_work() as s:
        caprock = _org(s, OPERATORS[0])
        red_mesa = _org(s, OPERATORS[1])
        high_plains = _org(s, OPERATORS[5])
        sandhill = _org(s, OPERATORS[8])
        people_at = {
            caprock.id: [("Jordan Hale", "VP Completions", True), ("Casey Ortiz", "Buyer", True)],
            red_mesa.id: [("Quinn Bishop", "Drilling Superintendent", True)],
            high_plains.id: [
                ("Parker Nguyen", "Operations Manager", True),
                ("Avery Carver", "Procurement", False),
            ],
            sandhill.id: [("Morgan Delgado", "Field Supervisor", True)],
        }
        line = 100  # 555-0100 to 555-0199: the numbers set aside for fiction
        for org_id, folks in people_at.items():
            for full_name, title, consents in folks:
                first, last = full_name.lower().split()
                line += 1
                contact = contacts.create_contact(
                    s, admin, organization_id=org_id, full_name=full_name, title=title,
                    emails=[f"{first}.{last}@example.com"], phones=[f"(432) 555-0{line}"],
                )  # fmt: skip
                if not consents:  # asked not to be e-mailed: campaigns leave them out
                    contact.consent = ConsentStatus.DENIED
                    contact.consent_at, contact.consent_source = now, "asked on a call"
        log_interaction(
            s, rep1, organization_id=caprock.id, kind="call", occurred_at=now - dt.timedelta(days=2),
            subject="Q1 completions schedule", notes="Four wells to frac in Reeves in January.",
        )  # fmt: skip
        log_interaction(
            s, rep2, organization_id=high_plains.id, kind="meeting",
            occurred_at=now - dt.timedelta(days=5), subject="Water hauling contract",
        )  # fmt: skip
        deal = opportunities.create_opportunity(
            s, rep1, organization_id=caprock.id, name="Q1 frac sand, Reeves pad",
            amount=Decimal("184000"), expected_close=today + dt.timedelta(days=40),
            next_step="send the revised quote", source=OpportunitySource.PERSON,
        )  # fmt: skip
        opportunities.move_opportunity(s, rep1, deal.id, OpportunityStage.PROPOSAL)
        opportunities.create_opportunity(
            s, rep2, organization_id=high_plains.id, name="Produced water hauling, Weld County",
            amount=Decimal("96000"), expected_close=today + dt.timedelta(days=75),
            stage=OpportunityStage.QUALIFICATION,
        )  # fmt: skip
        tasks.create_task(
            s, rep1, organization_id=caprock.id, title="Send the revised sand quote",
            due_at=now - dt.timedelta(days=1), opportunity_id=deal.id,
        )  # fmt: skip
        tasks.create_task(
            s, rep1, organization_id=red_mesa.id, title="Call about the new Loving County permits",
            due_at=now + dt.timedelta(days=1),
        )  # fmt: skip
        tasks.create_task(
            s, rep2, organization_id=sandhill.id, title="Introduce the Williston yard",
            due_at=now + dt.timedelta(days=3),
        )  # fmt: skip
        sand = orders.create_product(
            s, admin, sku="SAND-4070", name="Frac sand 40/70", unit="ton",
            unit_price=Decimal("42.50"),
        )  # fmt: skip
        tank = orders.create_product(
            s, admin, sku="TANK-500", name="Frac tank rental", unit="day",
            unit_price=Decimal("65.00"),
        )  # fmt: skip
        order = orders.create_order(
            s, rep2, organization_id=high_plains.id,
            lines=[orders.LineInput(sand.id, Decimal("120")), orders.LineInput(tank.id, Decimal("14"))],
            delivery=orders.Delivery(date=today + dt.timedelta(days=10), address="Weld County Rd 49, Keenesburg, CO"),
        )  # fmt: skip
        orders.move_order(s, rep2, order.id, "confirm")
        service_requests.create_service_request(
            s, rep2, organization_id=sandhill.id, kind="well_down",
            subject="Pump down on a McKenzie County well",
            priority=ServiceRequestPriority.HIGH,
            county="MCKENZIE", state="ND",
        )  # fmt: skip
        segment = segments.create_segment(
            s, manager, name="Drilling now",
            logic={">=": [{"var": "permits_90d"}, 1]},
            description="Operators with a permit in the last 90 days",
        )  # fmt: skip
        campaign = campaigns.create_campaign(
            s, manager, name="Winter completions", segment_id=segment.id,
            subject="Sand and tanks for your {{organization}} completions",
            body="Hello {{first_name}},\n\nWe stock 40/70 sand near your new permits.",
            goal="Five proposals before January", budget=Decimal("2500"),
        )  # fmt: skip
        campaigns.start_campaign(s, manager, campaign.id)


def _top(db: Database, n: int = 5) -> list[dict[str, Any]]:
    with db.read() as session:
        rows = session.execute(
            select(Organization.id, Organization.name, Organization.owner_id)
            .join(OrganizationScore, OrganizationScore.organization_id == Organization.id)
            .order_by(OrganizationScore.priority.desc(), Organization.id)
            .limit(n)
        ).all()
        owners = dict(session.execute(select(User.id, User.name)).all())
        out = []
        for org_id, name, owner_id in rows:
            score = stored_score(session, org_id)
            out.append(
                {
                    "id": org_id,
                    "name": name,
                    "priority": score.priority,
                    "owner": owners.get(owner_id) if owner_id else None,
                    "why": [(p["rule"], p["contribution"]) for p in score.explanation],
                }
            )
    return out


def run(
    db: Database,
    settings: Settings,
    *,
    samples_dir: Path,
    today: dt.date | None = None,
    reporter: Reporter | None = None,
) -> Summary:
    """Set the demo up on an empty CRM; on one that has data, only say what is there."""
    from ogcrm.worker import build_broker

    reporter = reporter or Reporter()
    today = today or dt.date.today()
    with db.read() as session:
        if session.scalar(select(User.id).limit(1)) is not None:
            return Summary(seeded=False, top=_top(db), users=_user_list())
    reporter.step("demo users, routing rules and the rule set")
    people, logins = _users(db)
    _routing(db, people)
    with db.unit_of_work() as session:
        rule_set = save_rule_set(session, people["admin"], parse(RULE_SET))
        activate(session, people["admin"], rule_set.id)
    files = write_samples(samples_dir, today=today)
    (samples_dir / "rules.json").write_text(json.dumps(RULE_SET, indent=2) + "\n")
    reporter.step(f"sample files written to {samples_dir}")
    broker = build_broker(settings, JobRuntime(db, settings.data_dir, None, settings))
    worker = InProcessWorker(broker, threads=1)
    worker.start()
    summary = Summary(seeded=True, logins=logins, samples=str(samples_dir))
    try:
        decide = _decider(db, people["analyst"])
        for sample in files:
            imported, decision = _import(db, settings, people["analyst"], sample, reporter, decide)
            summary.imports.append(imported)
            summary.decision = summary.decision or decision
        _drain(broker)
        reporter.step("a week of sales work: contacts, calls, deals, tasks, an order, a campaign")
        _sales_work(db, people, today)
        _drain(broker)
    finally:
        worker.stop()
    summary.top, summary.users = _top(db), _user_list()
    return summary


def _drain(broker: Any) -> None:
    """Wait until every job sent so far (merges' rescores, e-mails) has run."""
    for queue in broker.get_declared_queues():
        broker.join(queue, timeout=120_000)


def _user_list() -> list[dict[str, str]]:
    return [{"email": e, "name": n, "role": r} for e, n, r in DEMO_USERS]
