"""`ogcrm features`, `ogcrm rules validate|preview|activate` and `ogcrm rescore`, as an
admin runs them against a database."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from ogcrm.cli import main
from ogcrm.db.models import Organization, Permit
from tests.conftest import TEST_SECRET_KEY

GOOD = {
    "name": "Permit hunters",
    "description": "who is drilling",
    "rules": [
        {"name": "any permit", "logic": {">": [{"var": "permits_365d"}, 0]}, "weight": 10},
        {"name": "per permit", "logic": {"var": "permits_365d"}, "weight": 2},
    ],
}


@pytest.fixture
def cli(db, database_url, monkeypatch):
    monkeypatch.setenv("OGCRM_SECRET_KEY", TEST_SECRET_KEY)
    with db.unit_of_work() as s:
        a = Organization(name="Alpha Oil", normalized_name="ALPHA OIL")
        b = Organization(name="Beta Gas", normalized_name="BETA GAS")
        s.add_all([a, b])
        s.flush()
        import datetime as dt

        today = dt.date.today()
        s.add_all(
            Permit(agency="tx-rrc", permit_number=f"P{i}", operator_id=a.id, issued_on=today)
            for i in range(3)
        )

    def run(*args: str):
        return CliRunner().invoke(main, ["--database-url", database_url, *args])

    return run


def test_features_lists_every_documented_feature(cli):
    rows = {r["name"]: r for r in json.loads(cli("features", "--json").output)}
    expected = {
        "permits_30d",
        "permits_90d",
        "permits_365d",
        "active_wells",
        "new_wells_12m",
        "oil_bbl_12m",
        "gas_mcf_12m",
        "production_trend",
        "counties",
        "days_since_last_interaction",
        "open_opportunities",
        "overdue_tasks",
        "owner_id",
        "tags",
    }
    assert expected <= rows.keys()
    assert rows["tags"]["type"] == "list" and rows["permits_90d"]["scorer"] == "permits"


def test_validate_yaml_and_json(cli, tmp_path):
    good = tmp_path / "rules.yaml"
    good.write_text(yaml.safe_dump(GOOD))
    result = cli("rules", "validate", str(good))
    assert result.exit_code == 0 and "valid (2 rules)" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "name": "bad",
                "rules": [
                    {"name": "typo", "logic": {">": [{"var": "permit_90d"}, 1]}, "weight": 1},
                    {"name": "odd", "logic": {"in": [{"var": "counties"}, "x"]}, "weight": 1},
                ],
            }
        )
    )
    result = cli("rules", "validate", str(bad), "--json")
    assert result.exit_code == 1
    faults = json.loads(result.output)["faults"]
    assert [(f["rule"], f["path"]) for f in faults] == [
        ("typo", "/rules/0/logic/>/0/var"),
        ("odd", "/rules/1/logic/in/0"),
    ]
    assert "unknown feature 'permit_90d'" in faults[0]["message"]


def test_preview_then_activate_then_rescore(cli, tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(GOOD))
    preview = json.loads(cli("rules", "preview", str(path), "--json", "--top", "1").output)
    assert preview["organizations"] == 2
    assert [(r["name"], r["score"]) for r in preview["top"]] == [("Alpha Oil", 16.0)]
    activated = cli("rules", "activate", str(path), "--json")
    assert activated.exit_code == 0, activated.output
    out = json.loads(activated.stdout)  # progress goes to stderr
    assert (out["version"], out["organizations"], out["snapshots"]) == (1, 2, 2)
    again = json.loads(cli("rescore", "--json").stdout)
    assert (again["organizations"], again["snapshots"]) == (2, 0)


def test_rescore_without_an_active_rule_set_says_so(cli):
    result = cli("rescore")
    assert result.exit_code == 1 and "no rule set is active" in result.output
