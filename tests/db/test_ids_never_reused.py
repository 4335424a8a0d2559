"""Ids are never handed out twice: after a revert deletes what a dataset created, what
is created next takes new ids, so the reverted dataset's change records still name no
live row (finding 12 of the outside attack: SQLite reused them). And the SQLite
rebuild that made it so keeps every row, child rows of ON DELETE CASCADE keys included."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.config import Settings
from ogcrm.datasets.service import import_now, revert_now
from ogcrm.db import migrate
from ogcrm.db import models as m
from ogcrm.db.session import Database, create_db_engine

SYSTEM = system_principal("test")


def test_a_revert_frees_no_id_for_reuse(db: Database, settings, tmp_path: Path):
    listing = tmp_path / "permits.csv"
    listing.write_text(
        "permit_number,api,operator_name,operator_number,county,issued_date\n"
        "101,42-389-12345,Zeta Newco LLC,900001,REEVES,2026-01-05\n"
        "102,42-389-12346,Omega Newco Inc,900002,WARD,2026-01-07\n",
        encoding="utf-8",
    )
    received = import_now(db, SYSTEM, listing, data_dir=settings.data_dir, approve=True)
    with db.read() as s:
        created = {
            (entity, entity_id)
            for entity, entity_id in s.execute(
                select(m.ChangeRecord.entity, m.ChangeRecord.entity_id).where(
                    m.ChangeRecord.dataset_id == received.dataset_id
                )
            )
        }
        highest = {
            "organization": s.scalar(select(func.max(m.Organization.id))),
            "well": s.scalar(select(func.max(m.Well.id))),
            "permit": s.scalar(select(func.max(m.Permit.id))),
        }
    assert {"organization", "well", "permit"} <= {e for e, _ in created}
    revert_now(db, SYSTEM, received.dataset_id)
    with db.unit_of_work() as s:
        org = create_organization(s, SYSTEM, name="Afterwards Operating LLC")
        well = m.Well(api10="4238999999", operator_id=org.id)
        s.add(well)
        s.flush()
        permit = m.Permit(
            agency="rrc", permit_number="P-AFTER", operator_id=org.id, well_id=well.id
        )
        s.add(permit)
        s.flush()
        new = {"organization": org.id, "well": well.id, "permit": permit.id}
    for entity, new_id in new.items():
        assert new_id > highest[entity], entity
        assert (entity, new_id) not in created


def test_the_sqlite_rebuild_keeps_every_row(tmp_path: Path, database_url: str):
    if not database_url.startswith("sqlite"):
        pytest.skip("the rebuild is SQLite's: PostgreSQL's sequences never reused an id")
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine, "13c24501010a")  # the revision before the rebuild
    with engine.begin() as conn:
        conn.execute(insert(m.Organization.__table__).values(
            id=7, name="Kept LLC", normalized_name="KEPT", aliases=[], status="prospect", country="US",
            created_at=text("CURRENT_TIMESTAMP"), updated_at=text("CURRENT_TIMESTAMP")))  # fmt: skip
        conn.execute(insert(m.Contact.__table__).values(
            organization_id=7, full_name="Kept Person", consent="unknown",
            created_at=text("CURRENT_TIMESTAMP"), updated_at=text("CURRENT_TIMESTAMP")))  # fmt: skip
        conn.execute(insert(m.Tag.__table__).values(id=3, name="kept"))
        conn.execute(insert(m.organization_tag).values(organization_id=7, tag_id=3))
    migrate.upgrade(engine)
    engine.dispose()
    db = Database(Settings(database_url=url))
    with db.read() as s:
        # the rows of ON DELETE CASCADE children survive their parent's rebuild
        assert s.scalar(select(func.count()).select_from(m.Contact)) == 1
        assert s.scalar(select(func.count()).select_from(m.organization_tag)) == 1
    with db.unit_of_work() as s:
        s.execute(text("DELETE FROM organization WHERE id = 7"))
        assert s.scalar(select(func.count()).select_from(m.Contact)) == 0  # cascades again
        org = create_organization(s, SYSTEM, name="Next LLC")
        assert org.id == 8  # not 7: AUTOINCREMENT remembers it
        # the table's trigger was made again: a new organization gets its score row
        assert s.scalar(select(m.OrganizationScore.organization_id).where(
            m.OrganizationScore.organization_id == 8)) == 8  # fmt: skip
    with pytest.raises(IntegrityError), db.unit_of_work() as s:  # foreign keys are on again
        s.execute(insert(m.Contact.__table__).values(
            organization_id=999, full_name="Orphan", consent="unknown",
            created_at=text("CURRENT_TIMESTAMP"), updated_at=text("CURRENT_TIMESTAMP")))  # fmt: skip
    db.dispose()


def test_every_table_keyed_by_id_is_autoincrement_at_head(db: Database, database_url: str):
    """What a future table rebuild must keep (its reflection does not carry it)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("AUTOINCREMENT is SQLite's: PostgreSQL's sequences never go back")
    from ogcrm.db.base import Base

    keyed = {
        t.name
        for t in Base.metadata.tables.values()
        if list(t.primary_key.columns.keys()) == ["id"]
    }
    exempt = {"audit_event", "change_record", "cell_issue", "staged_row", "score_snapshot"}
    with db.read() as s:
        auto = set(s.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'")))  # fmt: skip
    assert auto == keyed - exempt
