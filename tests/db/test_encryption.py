"""Contact e-mails and phones encrypted at rest when OGCRM_ENCRYPTION_KEY is set: the
database holds only ciphertext, the product shows the values, exact search and dedupe
still find them through the blind index, rotation re-encrypts in resumable batches, and
without the key nothing starts or shows ciphertext."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from ogcrm.accounts.contacts import contact_details, create_contact, list_contacts, update_contact
from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.cli import main
from ogcrm.config import ConfigError
from ogcrm.datasets.matching import find_contact
from ogcrm.db import crypto, keys
from ogcrm.db.models import OutboundMessageRecord
from ogcrm.db.session import Database
from ogcrm.failpoints import FailpointError
from ogcrm.reports import exports, streams

SYSTEM = system_principal("test")
K1 = "k1:" + "A" * 43  # 32 bytes of zeros-ish, base64: a test key, not a secret
K2 = crypto.new_key()


@pytest.fixture
def keyed(settings):
    """A Database whose process keyring is ``K1``; the keyring is cleared afterwards."""
    made: list[Database] = []

    def open_with(key: str) -> Database:
        db = Database(replace(settings, encryption_key=key))
        made.append(db)
        return db

    yield open_with
    for db in made:
        db.dispose()
    crypto.configure("")


def raw_points(db: Database) -> list[str]:
    with db.read() as s:
        emails = [r[0] for r in s.execute(text("SELECT address FROM contact_email"))]
        phones = [r[0] for r in s.execute(text("SELECT number FROM contact_phone"))]
        sent = [r[0] for r in s.execute(text("SELECT before, after FROM change_record"))]
    return emails + phones + [str(v) for v in sent]


def test_stored_encrypted_shown_in_clear_found_by_blind_index(keyed):
    db = keyed(K1)
    with db.unit_of_work() as s:
        org = create_organization(s, SYSTEM, name="Caprock Operating LLC").id
        contact = create_contact(s, SYSTEM, organization_id=org, full_name="Ann Buyer",
                                 emails=["Ann.Buyer@Caprock.example"], phones=["432-555-0199"]).id  # fmt: skip
    stored = raw_points(db)
    assert all(v.startswith("enc:v1:k1:") for v in stored[:2])
    assert not any("Caprock.example" in v or "555" in v for v in stored)
    with db.read() as s:
        details = contact_details(s, SYSTEM, [contact], audited=False)[contact]
        assert details.emails == ["Ann.Buyer@caprock.example"] and details.phones == [
            "+14325550199"
        ]
        # the whole address, in any case, through the blind index
        assert [
            c.id for c in list_contacts(s, SYSTEM, first=5, search="ann.buyer@CAPROCK.example").rows
        ] == [contact]
        assert find_contact(s, org, email="ANN.BUYER@caprock.example").id == contact
        assert find_contact(s, org, phone="(432) 555-0199").id == contact
        plan = exports.plan(s, SYSTEM, exports.ExportKind.CONTACTS, {})
        exported = b"".join(streams.write(s, plan, exports.Format.CSV)).decode()
    row = next(csv.DictReader(io.StringIO(exported)))
    # decrypted, then made inert like any text (E.164's + would start a formula)
    assert row["email"] == "Ann.Buyer@caprock.example" and row["phone"] == "'+14325550199"
    with db.unit_of_work() as s:  # the address a message goes to is encrypted too
        s.add(OutboundMessageRecord(template="t", subject="s", address="ann@caprock.example"))
    with db.read() as s:
        assert s.scalar(text("SELECT address FROM outbound_message")).startswith("enc:v1:")
        assert s.scalar(select(OutboundMessageRecord.address)) == "ann@caprock.example"
    with db.unit_of_work() as s:  # a change record keeps no clear copy either
        update_contact(s, system_principal("test"), contact, emails=["ann@caprock.example"])
    assert not any("caprock.example" in v.lower() for v in raw_points(db))


def database_bytes(db: Database) -> bytes:
    """What is on disk (SQLite: the file and its WAL), or every stored value as text
    (PostgreSQL: its tables, since its files are the server's)."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        return b"".join(
            p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
        )
    with db.read() as s:
        return "".join(raw_points(db)).encode() + b"".join(
            str(r).encode() for r in s.execute(text("SELECT * FROM outbound_message")))  # fmt: skip


def test_an_interrupted_rotation_resumes_and_the_file_holds_no_clear_value(keyed, monkeypatch):
    clear = keyed("")
    with clear.unit_of_work() as s:
        org = create_organization(s, SYSTEM, name="Resume Energy").id
        for n in range(7):
            create_contact(s, SYSTEM, organization_id=org, full_name=f"Person {n}",
                           emails=[f"person{n}@resume.example"], phones=[f"+1432555{n:04d}"])  # fmt: skip
    assert b"person3@resume.example" in database_bytes(clear)
    db = keyed(K1)
    monkeypatch.setenv("OGCRM_FAILPOINT", "keys.rotate:raise")
    with pytest.raises(FailpointError):
        keys.rotate(db, batch=3)  # stopped after the first batch of three
    monkeypatch.delenv("OGCRM_FAILPOINT")
    assert keys.status(db)["contact_email.address"] == {"k1": 3, "clear": 4}
    with db.read() as s:  # half-way, every row still reads
        found = list_contacts(s, SYSTEM, first=10, organization_id=org).rows
        details = contact_details(s, SYSTEM, [c.id for c in found], audited=False)
    assert sorted(e for d in details.values() for e in d.emails) == [
        f"person{n}@resume.example" for n in range(7)
    ]
    keys.rotate(db, batch=3)
    assert keys.status(db)["contact_email.address"] == {"k1": 7}
    assert keys.status(db)["contact_phone.number"] == {"k1": 7}
    stored = database_bytes(db)
    for n in range(7):
        assert f"person{n}@resume.example".encode() not in stored
        assert f"+1432555{n:04d}".encode() not in stored


def test_rotation_encrypts_what_was_clear_then_moves_to_a_new_key(keyed):
    clear = keyed("")
    with clear.unit_of_work() as s:
        org = create_organization(s, SYSTEM, name="Pecos Valley Energy").id
        for n in range(5):
            create_contact(s, SYSTEM, organization_id=org, full_name=f"Person {n}",
                           emails=[f"p{n}@pecos.example"])  # fmt: skip
    assert raw_points(clear)[0] == "p0@pecos.example"
    db = keyed(K1)
    assert keys.status(db)["contact_email.address"] == {"clear": 5}
    with db.read() as s:  # clear rows are still found before the rotation
        assert find_contact(s, org, email="p3@pecos.example") is not None
    assert keys.rotate(db, batch=2)["contact_email.address"] == 5
    assert keys.status(db)["contact_email.address"] == {"k1": 5}
    assert keys.rotate(db, batch=2)["contact_email.address"] == 0  # done: nothing again

    kid = K2.partition(":")[0]
    db = keyed(f"{K2},{K1}")
    with db.read() as s:  # found under the old key's index while the rotation has not run
        assert find_contact(s, org, email="p4@pecos.example") is not None
    keys.rotate(db)
    assert keys.status(db)["contact_email.address"] == {kid: 5}
    db = keyed(K2)  # the old key is gone: everything still reads
    with db.read() as s:
        assert find_contact(s, org, email="p1@pecos.example") is not None
        assert list_contacts(s, SYSTEM, first=10, search="p2@pecos.example").rows
    keys.rotate(db, to_clear=True)
    assert keys.status(db)["contact_email.address"] == {"clear": 5}


def test_without_the_key_nothing_starts_or_shows_ciphertext(keyed, settings, monkeypatch):
    db = keyed(K1)
    with db.unit_of_work() as s:
        org = create_organization(s, SYSTEM, name="Locked Oil LLC").id
        contact = create_contact(s, SYSTEM, organization_id=org, full_name="Kim",
                                 emails=["kim@locked.example"]).id  # fmt: skip
    bare = keyed("")
    with pytest.raises(ConfigError, match="OGCRM_ENCRYPTION_KEY is not set"):
        keys.refuse_without_key(bare)
    with bare.read() as s, pytest.raises(crypto.EncryptionKeyMissing):
        contact_details(s, SYSTEM, [contact], audited=False)
    other = keyed(K2)
    with other.read() as s, pytest.raises(crypto.EncryptionKeyMissing, match="'k1'"):
        contact_details(s, SYSTEM, [contact], audited=False)
    monkeypatch.setenv("OGCRM_DATABASE_URL", settings.database_url)
    monkeypatch.delenv("OGCRM_ENCRYPTION_KEY", raising=False)
    refused = CliRunner().invoke(main, ["serve"])
    assert refused.exit_code == 1 and "holds encrypted values" in refused.output


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("justakey", "expected ID:BASE64KEY"),
        ("k1:c2hvcnQ", "a key is 32 bytes"),
        (f"{K1},{K1}", "names key 'k1' twice"),
        ("k1:@@@@", "not base64"),
    ],
)
def test_a_bad_key_setting_says_what_is_wrong(setting, message):
    with pytest.raises(ConfigError, match=message):
        crypto.Keyring.parse(setting)


def test_a_database_not_migrated_yet_is_no_reason_to_refuse(empty_database_url, settings):
    """`ogcrm worker` checks before it starts, and may start before `db upgrade` ran."""
    db = Database(replace(settings, database_url=empty_database_url, encryption_key=""))
    try:
        keys.refuse_without_key(db)
    finally:
        db.dispose()
