"""Organization and contact deduplication: ids decide, names are matched with guards,
uncertain pairs go to a person, and a person's decisions are remembered."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from ogcrm.accounts.cleaning import organization_keys
from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.datasets.matching import load_matcher, record_decision
from ogcrm.db.models import MatchVerdict
from ogcrm.pipeline.matching import OrganizationMatcher, OrgName, Verdict, contact_groups

PAIRS = Path(__file__).resolve().parents[1] / "data" / "operator_pairs.csv"


def org(name: str, ids=(), organization_id=None) -> OrgName:
    ((key, form),) = organization_keys([name])
    return OrgName(key, name, form, frozenset(ids), organization_id)


class TestLabelledPairs:
    def test_automatic_merges_are_precise_on_the_labelled_set(self):
        with PAIRS.open(encoding="utf-8") as fh:
            pairs = list(csv.DictReader(fh))
        assert len(pairs) >= 300
        names = sorted({p["left"] for p in pairs} | {p["right"] for p in pairs})
        keyed = {
            n: OrgName(k, n, f) for n, (k, f) in zip(names, organization_keys(names), strict=True)
        }
        verdicts = [
            OrganizationMatcher([keyed[p["left"]]]).match(keyed[p["right"]]).verdict for p in pairs
        ]
        merged = [p for p, v in zip(pairs, verdicts, strict=True) if v is Verdict.SAME]
        true_merges = sum(p["same"] == "1" for p in merged)
        assert true_merges / len(merged) >= 0.99
        positives = [v for p, v in zip(pairs, verdicts, strict=True) if p["same"] == "1"]
        assert sum(v is not Verdict.NEW for v in positives) / len(positives) >= 0.95


class TestOrganizationMatcher:
    @pytest.mark.parametrize(
        ("known", "incoming", "verdict"),
        [
            ("EnerVest Operating, LLC", "ENERVEST OPERATING L", Verdict.SAME),
            ("Chevron U.S.A. Inc.", "CHEVRON U. S. A. INC.", Verdict.SAME),
            ("Pennzoil Producing Company", "Pennzoil Products Co.", Verdict.CANDIDATE),
            ("HILCORP ENERGY COMPANY", "Hilcorp Energy GOM, LLC", Verdict.CANDIDATE),
            ("NCX Company, Inc.", "NCX Company, L.L.C.", Verdict.CANDIDATE),
            ("Occidental Petroleum Corporation", "OXY USA INC.", Verdict.NEW),
        ],
    )
    def test_names(self, known, incoming, verdict):
        assert OrganizationMatcher([org(known)]).match(org(incoming)).verdict is verdict

    def test_operator_ids_decide_both_ways(self):
        hilcorp = org("HILCORP ENERGY COMPANY", ids={("boem", "02171")}, organization_id=7)
        matcher = OrganizationMatcher([hilcorp])
        same = matcher.match(org("Hilcorp Energy GOM, LLC", ids={("boem", "02171")}))
        assert (same.verdict, same.other.organization_id) == (Verdict.SAME, 7)
        assert same.reason == "same boem operator id 02171"
        other = matcher.match(org("HILCORP ENERGY CO.", ids={("boem", "03339")}))
        assert other.verdict is Verdict.NEW  # same name, different company number

    def test_rows_of_one_file_are_matched_against_each_other(self):
        matcher = OrganizationMatcher()
        first = org("DEVON ENERGY PRODUCTION CO, L.P.")
        assert matcher.match(first).verdict is Verdict.NEW
        matcher.add(first)
        assert matcher.match(org("Devon Energy Production Co., L.P.")).verdict is Verdict.SAME

    def test_a_denied_pair_is_not_proposed_again(self):
        a, b = org("Pennzoil Producing Company"), org("Pennzoil Products Co.")
        matcher = OrganizationMatcher([a], {tuple(sorted((a.key, b.key))): "different"})
        assert matcher.match(b).verdict is Verdict.NEW


class TestDecisionsAreRemembered:
    def test_confirmed_candidate_merges_on_the_next_import(self, db):
        principal = system_principal("test")
        with db.unit_of_work() as session:
            created = create_organization(session, principal, name="Pennzoil Producing Company")
            org_id = created.id
        with db.read() as session:
            first = load_matcher(session).match(org("Pennzoil Products Co."))
        assert first.verdict is Verdict.CANDIDATE
        with db.unit_of_work() as session:
            record_decision(
                session,
                principal,
                "Pennzoil Producing Company",
                "Pennzoil Products Co.",
                MatchVerdict.SAME,
                note="same company, renamed",
            )
        with db.read() as session:
            again = load_matcher(session).match(org("Pennzoil Products Co."))
        assert (again.verdict, again.other.organization_id) == (Verdict.SAME, org_id)
        assert again.reason == "confirmed by a person"

    def test_latest_decision_wins(self, db):
        principal = system_principal("test")
        with db.unit_of_work() as session:
            create_organization(session, principal, name="Pennzoil Producing Company")
            for verdict in (MatchVerdict.SAME, MatchVerdict.DIFFERENT):
                record_decision(
                    session,
                    principal,
                    "Pennzoil Producing Company",
                    "Pennzoil Products Co.",
                    verdict,
                )
        with db.read() as session:
            assert load_matcher(session).match(org("Pennzoil Products Co.")).verdict is Verdict.NEW


def test_contacts_sharing_an_email_or_phone_are_one_person():
    emails = pd.Series(["a@x.com", None, "A@x.com", "b@y.com", None])
    phones = pd.Series(["+14325550100", "+14325550100", None, None, None])
    groups = contact_groups(emails, phones).tolist()
    assert groups[0] == groups[1] == groups[2]
    assert len({groups[0], groups[3], groups[4]}) == 3


def test_an_existing_contact_is_found_by_cleaned_email_or_phone(db):
    from ogcrm.accounts.contacts import create_contact
    from ogcrm.datasets.matching import find_contact

    principal = system_principal("test")
    with db.unit_of_work() as session:
        org_id = create_organization(session, principal, name="Acme Oil Co.").id
        contact_id = create_contact(
            session,
            principal,
            organization_id=org_id,
            full_name="Dana Cole",
            emails=["dana@acmeoil.com"],
            phones=["432-555-0100"],
        ).id
    with db.read() as session:
        assert find_contact(session, org_id, email="Dana@ACMEOIL.com").id == contact_id
        assert find_contact(session, org_id, phone="(432) 555-0100").id == contact_id
        assert find_contact(session, org_id, email="other@acmeoil.com") is None
