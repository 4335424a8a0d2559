"""Password storage: Argon2id with OWASP parameters, rehash on upgrade, no truncation."""

from __future__ import annotations

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select

from ogcrm.auth.passwords import check_password_policy, hash_password, verify_password
from ogcrm.db.models import User
from ogcrm.db.session import Database


def _params(encoded: str) -> dict[str, int]:
    # $argon2id$v=19$m=65536,t=3,p=4$salt$hash
    fields = encoded.split("$")[3]
    return {k: int(v) for k, v in (part.split("=") for part in fields.split(","))}


class TestHashing:
    def test_argon2id_with_at_least_owasp_parameters(self):
        encoded = hash_password("correct horse battery staple")
        assert encoded.startswith("$argon2id$")
        params = _params(encoded)
        # OWASP: m >= 19 MiB with t >= 2, or m >= 37 MiB with t >= 1
        assert (params["m"] >= 19 * 1024 and params["t"] >= 2) or (
            params["m"] >= 37 * 1024 and params["t"] >= 1
        )

    def test_same_password_gets_different_salts(self):
        assert hash_password("same password here") != hash_password("same password here")

    @pytest.mark.parametrize(
        "password", ["x" * 64 + "tail", "pässwörd-ünïcödé-密码-🔑", " leading and trailing "]
    )
    def test_long_and_non_ascii_passwords_work_without_truncation(self, password):
        encoded = hash_password(password)
        assert verify_password(password, encoded)[0]
        assert not verify_password(password[:-1], encoded)[0]
        assert not verify_password(password + "x", encoded)[0]

    def test_older_parameters_are_upgraded_on_successful_verify(self):
        weak = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8192, parallelism=1),)).hash(
            "old password!"
        )
        ok, new_hash = verify_password("old password!", weak)
        assert ok
        assert new_hash is not None and _params(new_hash)["m"] == 65536

    @pytest.mark.parametrize(
        ("password", "problem"), [("short", "at least 8"), ("x" * 2000, "at most 1024")]
    )
    def test_policy_refuses_with_the_reason(self, password, problem):
        assert problem in (check_password_policy(password) or "")


class TestNoDefaultAccount:
    def test_a_fresh_installation_has_no_users(self, db: Database):
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(User)) == 0

    def test_the_login_upgrade_is_stored(self, client, db: Database, users):
        from ogcrm.db.models import User as UserRow
        from tests.support import login

        user = users.create("sales")
        weak = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8192, parallelism=1),)).hash(
            user.password
        )
        with db.unit_of_work() as s:
            s.get(UserRow, user.id).password_hash = weak
        assert login(client, user)["__typename"] == "AuthPayload"
        with db.read() as s:
            assert _params(s.get(UserRow, user.id).password_hash)["m"] == 65536
