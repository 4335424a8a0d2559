"""Sensitive fields encrypted at rest, and the keyed blind index that keeps them
searchable.

With ``OGCRM_ENCRYPTION_KEY`` set, a column typed :class:`Sensitive` (a contact's
e-mails and phones, the address an outbound message went to) is stored as
``enc:v1:<key id>:<base64(nonce + ciphertext + tag)>``: AES-256-GCM from
``cryptography``, a fresh 96-bit nonce per value, and the column's name as associated
data, so a value copied into another column does not decrypt there. Reading decrypts
with whichever configured key the value names; writing uses the first key. Values
written before a key was configured stay readable as they are, and
``ogcrm keys rotate`` re-encrypts everything with the current key.

Equality still works through a blind index beside each column: HMAC-SHA256 of the
normalized value under a key derived from each encryption key (HKDF), one value per
configured key, so a lookup during a rotation finds rows indexed under the old key too.
Substring search of an encrypted column is not possible; an exact e-mail is.

The keyring is process-wide (set from the settings when a :class:`Database` is made):
a type's bind and result processing has no other way to reach it. A value that is
encrypted while no key is configured is refused with :class:`EncryptionKeyMissing`,
never shown as ciphertext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import String, func, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from ogcrm.config import ConfigError

#: What an encrypted value starts with (a clear one never does: checks refuse it).
MARK = "enc:v1:"


class EncryptionKeyMissing(RuntimeError):
    """Encrypted data was read, but no key (or not the key it names) is configured."""


def new_key() -> str:
    """A fresh 256-bit key, as ``OGCRM_ENCRYPTION_KEY`` takes it (id ``k`` + a stamp)."""
    raw = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    return f"k{int.from_bytes(os.urandom(3), 'big'):06x}:{raw}"


def _decode(part: str, position: int) -> tuple[str, bytes]:
    kid, sep, encoded = part.strip().partition(":")
    if not sep or not kid.isalnum() or len(kid) > 16:
        raise ConfigError(
            f"OGCRM_ENCRYPTION_KEY entry {position}: expected ID:BASE64KEY (make one with "
            "`ogcrm keys new`)"
        )
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_", validate=True)
    except ValueError:
        raise ConfigError(f"OGCRM_ENCRYPTION_KEY entry {position}: the key is not base64") from None
    if len(key) != 32:
        raise ConfigError(
            f"OGCRM_ENCRYPTION_KEY entry {position}: a key is 32 bytes, this one {len(key)}"
        )
    return kid, key


@dataclass
class Keyring:
    """The configured keys by id; ``current`` encrypts."""

    keys: dict[str, bytes]
    current: str
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False)
    _blind: dict[str, bytes] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, setting: str) -> Keyring | None:
        """The keyring of ``OGCRM_ENCRYPTION_KEY`` (``ID:KEY[,ID:KEY...]``), None if unset."""
        parts = [p for p in setting.split(",") if p.strip()]
        if not parts:
            return None
        keys: dict[str, bytes] = {}
        for i, part in enumerate(parts, 1):
            kid, key = _decode(part, i)
            if kid in keys:
                raise ConfigError(f"OGCRM_ENCRYPTION_KEY names key {kid!r} twice")
            keys[kid] = key
        return cls(keys, next(iter(keys)))

    def __post_init__(self) -> None:
        for kid, key in self.keys.items():
            self._aead[kid] = AESGCM(key)
            self._blind[kid] = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"ogcrm blind index v1"
            ).derive(key)

    def encrypt(self, value: str, purpose: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead[self.current].encrypt(nonce, value.encode("utf-8"), purpose.encode())
        return f"{MARK}{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, purpose: str) -> str:
        kid, _, body = token[len(MARK) :].partition(":")
        aead = self._aead.get(kid)
        if aead is None:
            raise EncryptionKeyMissing(
                f"a value is encrypted with key {kid!r}, which OGCRM_ENCRYPTION_KEY does not hold"
            )
        raw = base64.b64decode(body)
        return aead.decrypt(raw[:12], raw[12:], purpose.encode()).decode("utf-8")

    def key_of(self, token: str) -> str | None:
        """The id of the key ``token`` is encrypted with (None: stored in clear)."""
        if not token.startswith(MARK):
            return None
        return token[len(MARK) :].partition(":")[0]

    def blind(self, value: str, kid: str | None = None) -> str:
        """The blind index of an already normalized ``value`` under one key (the current)."""
        digest = hmac.new(self._blind[kid or self.current], value.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()

    def blinds(self, value: str) -> list[str]:
        """``value``'s blind index under every configured key, the current first."""
        return [self.blind(value, kid) for kid in self.keys]


_keyring: Keyring | None = None


def configure(setting: str) -> Keyring | None:
    """Make ``setting`` (``OGCRM_ENCRYPTION_KEY``) this process's keyring."""
    global _keyring
    _keyring = Keyring.parse(setting)
    return _keyring


def keyring() -> Keyring | None:
    return _keyring


class Sensitive(TypeDecorator[str]):
    """A text column encrypted at rest when a key is configured (module docstring).

    ``length`` is the longest *plain* value, what inputs are checked against; the
    column itself is wide enough for the ciphertext of one that long.
    """

    impl = String(1024)
    cache_ok = True

    def __init__(self, length: int, purpose: str) -> None:
        super().__init__(length=max(1024, 64 + length * 2))
        #: the plain value's limit (``check_length`` reads it)
        self.length = length
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        ring = _keyring
        if value is None or ring is None or value.startswith(MARK):
            return value
        return ring.encrypt(value, self.purpose)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or not value.startswith(MARK):
            return value
        ring = _keyring
        if ring is None:
            raise EncryptionKeyMissing(
                "this database holds encrypted contact details: set OGCRM_ENCRYPTION_KEY"
            )
        return ring.decrypt(value, self.purpose)


def equals(column: Any, index: Any, value: str, *, fold_case: bool = False) -> Any:
    """SQL for ``column == value``: through the blind index when a key is configured
    (rows written before it was are still found by their clear value)."""
    plain = value.lower() if fold_case else value
    ring = _keyring
    # compared as plain text: a bind parameter of the column's own type would be encrypted
    text = type_coerce(column, String())
    clear = (func.lower(text) if fold_case else text) == plain
    if ring is None:
        return clear
    return index.in_(ring.blinds(plain)) | clear


def fingerprint(value: str | None, *, fold_case: bool = False) -> str | None:
    """The blind index a row of ``value`` gets under the current key (None without one)."""
    ring = _keyring
    if value is None or ring is None:
        return None
    return ring.blind(value.lower() if fold_case else value)


def protect(values: Iterable[str], purpose: str) -> list[str]:
    """``values`` as a JSON column keeps them (a change record): encrypted when a key is
    configured, so history holds no clear copy of what the columns encrypt."""
    ring = _keyring
    return [ring.encrypt(v, purpose) if ring else v for v in values]
