"""Password hashing with Argon2id (OWASP Password Storage Cheat Sheet parameters)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

#: Shortest password accepted (NIST SP 800-63B asks for at least 8); no upper bound below
#: Argon2's own, no composition rules, no truncation.
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    # 64 MiB, 3 passes, 4 lanes: above OWASP's minimum (19 MiB, t=2, p=1).
    return PasswordHash((Argon2Hasher(time_cost=3, memory_cost=65536, parallelism=4),))


def check_password_policy(password: str) -> str | None:
    """Why ``password`` is unacceptable, or ``None`` when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must be at most {MAX_PASSWORD_LENGTH} characters"
    return None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """Check a password; the second item is a new hash when parameters have changed."""
    return _hasher().verify_and_update(password, password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("ogcrm dummy password for unknown accounts")


def dummy_verify(password: str) -> None:
    """Spend the same Argon2 work as a real check, for accounts that do not exist."""
    verify_password(password, _dummy_hash())
