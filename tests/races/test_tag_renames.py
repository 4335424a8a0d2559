"""Two admins renaming tags at the same moment, on PostgreSQL (SQLite serializes
writers before they overlap): two tags renamed to one name leave one renamed and the
other told to merge (it was an unexpected error), and one tag renamed two ways is
renamed once, the other told it was renamed meanwhile (the last write used to win)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ogcrm.accounts import tags
from ogcrm.db import models as m
from ogcrm.db.session import Database
from ogcrm.errors import InvalidInput
from tests.support import at_once


@pytest.fixture
def admin(db: Database, users, settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite serializes writers before they overlap")
    with db.unit_of_work() as s:
        s.add_all([m.Tag(name="frac sand"), m.Tag(name="fracsand")])
    monkeypatch.setenv("OGCRM_FAILPOINT", "tag.rename:sleep=1")
    return users.create("admin").principal(db)


def test_two_tags_renamed_to_one_name_at_once(db: Database, admin):
    done, refused = at_once(
        db,
        [
            lambda s: tags.rename_tag(s, admin, "frac sand", "sand"),
            lambda s: tags.rename_tag(s, admin, "fracsand", "sand"),
        ],
        InvalidInput,
    )
    assert done == ["sand"] and len(refused) == 1
    assert refused[0].field == "to" and "merge" in str(refused[0])
    with db.read() as s:
        assert sorted(s.scalars(select(m.Tag.name))) in (
            ["fracsand", "sand"],
            ["frac sand", "sand"],
        )


def test_one_tag_renamed_two_ways_at_once(db: Database, admin):
    done, refused = at_once(
        db,
        [
            lambda s: tags.rename_tag(s, admin, "frac sand", "sand"),
            lambda s: tags.rename_tag(s, admin, "frac sand", "proppant"),
        ],
        InvalidInput,
    )
    assert len(done) == 1 and len(refused) == 1
    assert getattr(refused[0], "state", None) == "renamed"
    with db.read() as s:
        assert sorted(s.scalars(select(m.Tag.name))) == sorted([done[0], "fracsand"])
