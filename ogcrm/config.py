"""Settings: the one place that reads ``OGCRM_*`` environment variables.

Everything else receives a :class:`Settings` instance, so tests build their own without
touching ``os.environ``, and no module reads configuration at import time.

Precedence, highest first: the process environment, then a ``.env`` file in the working
directory (or the file named by ``OGCRM_ENV_FILE``), then the defaults below. The defaults
are the embedded set-up: a SQLite file in the working directory and the in-process job
broker, so ``ogcrm`` runs with no configuration at all.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

PREFIX = "OGCRM_"
SECRET_KEY_FILENAME = ".ogcrm-secret-key"  # noqa: S105 (a file name, not a secret)


class ConfigError(ValueError):
    """A setting has a value ogcrm cannot use; the message names the variable."""


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{PREFIX}{name.upper()}={raw!r} is not a boolean (use true or false)")


def _parse_int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name.upper()}={raw!r} is not an integer") from None


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Each field maps to ``OGCRM_<FIELD NAME IN UPPER CASE>``."""

    #: Where ogcrm keeps its files: the SQLite database, the generated secret key and,
    #: later, uploaded files (stored by content hash).
    data_dir: Path = field(default_factory=Path.cwd)
    #: SQLAlchemy URL. Empty means ``sqlite:///<data_dir>/ogcrm.db``.
    database_url: str = ""
    #: ``redis://`` URL for the job broker and pub/sub. Empty means in-process.
    redis_url: str = ""
    #: Key that signs tokens. Empty means: read ``<data_dir>/.ogcrm-secret-key``, creating
    #: it with a random key on first run.
    secret_key: str = ""
    #: Debug mode: unmasked errors. GraphiQL and introspection default to on in debug only
    #: unless set explicitly.
    debug: bool = False
    graphiql: bool = True
    introspection: bool = True
    #: Largest ``first`` a connection accepts.
    max_page_size: int = 100
    #: Largest upload accepted (``uploadDataset``); past it the server answers 413 at once.
    max_upload_bytes: int = 2 * 1024**3
    log_level: str = "INFO"
    #: Threads of the in-process worker on the embedded set-up.
    worker_threads: int = 2
    #: Lifetime of access tokens (JWT) and of a login's refresh-token family, in seconds.
    access_token_ttl: int = 900
    refresh_token_ttl: int = 30 * 24 * 3600
    #: Login attempts allowed (``limits`` notation): per account from one client address
    #: (so five wrong guesses from one place cannot lock the owner out from another),
    #: per client address over all accounts, and per account from everywhere (a
    #: guesser with many addresses).
    login_rate_per_account: str = "5/minute"
    login_rate_per_address: str = "30/minute"
    login_rate_per_account_total: str = "100/hour"
    #: Addresses of reverse proxies whose X-Forwarded-For is believed ("" = none).
    trusted_proxies: str = ""
    #: Browser origins allowed to call the API (CORS), comma-separated, e.g.
    #: ``https://crm.example.com``; none by default. ``*`` is refused: the API takes
    #: bearer tokens, and a wildcard would let any page a user visits spend them.
    cors_origins: str = ""
    #: Subscriptions: how many one websocket connection and one user (per API process)
    #: may hold open, and how often (seconds) a subscription re-checks its token, so that
    #: an expired or revoked one ends the stream within that interval.
    max_subscriptions_per_connection: int = 10
    max_subscriptions_per_user: int = 20
    subscription_recheck: int = 5
    #: Prefix of this installation's keys in a shared Redis (rate-limit windows, channels).
    instance_name: str = "ogcrm"
    #: Follow-up rules applied after a merge, as JSON (empty: the built-in one, a task for
    #: the owner when an account gets a new permit and nobody has talked to it for 30
    #: days); see ``ogcrm.accounts.timeline``.
    follow_up_rules: str = ""
    #: Redis broker: how long a silent worker is believed alive before its unfinished
    #: messages go back to the queue, and how often (per million fetches) a worker looks
    #: for such messages. Dramatiq's defaults (60 s, 1,000) can leave a killed worker's
    #: job waiting many minutes (Bogdanp/dramatiq#64); tests shorten both.
    job_heartbeat_timeout_ms: int = 15_000
    job_maintenance_chance: int = 10_000
    #: How often (seconds) job-working processes look for datasets whose job message was
    #: lost (0 = never), and how long a dataset may wait for its job before it is
    #: deemed lost (seconds). See ``ogcrm.jobs.reconciler``.
    reconcile_every: int = 300
    job_lease: int = 900
    #: Outbound e-mail (campaigns, task reminders): an SMTP URL
    #: (``smtp://user:pass@host:587?starttls=true``); unset, messages go to
    #: ``outbox.jsonl`` in the data directory and nobody is sent anything.
    smtp_url: str = ""
    mail_from: str = "ogcrm@localhost"
    #: At most this many messages a minute per notifier, across all workers.
    messages_per_minute: int = 60
    #: Remind a task's assignee this many minutes before it falls due.
    reminder_ahead_minutes: int = 60
    #: Encrypt contacts' e-mails and phones at rest: ``ID:BASE64KEY`` (32 bytes), more
    #: than one comma-separated while rotating (the first encrypts, all decrypt). Make
    #: one with ``ogcrm keys new``; see ``ogcrm.db.crypto``.
    encryption_key: str = ""

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'ogcrm.db'}")
        if self.max_upload_bytes < 1:
            raise ConfigError(
                f"{PREFIX}MAX_UPLOAD_BYTES must be at least 1, not {self.max_upload_bytes}"
            )
        if self.max_page_size < 1:
            raise ConfigError(f"{PREFIX}MAX_PAGE_SIZE must be at least 1, not {self.max_page_size}")
        if "*" in self.cors_origin_list:
            raise ConfigError(
                f"{PREFIX}CORS_ORIGINS cannot be '*': list the origins of your front ends"
            )
        for name in ("max_subscriptions_per_connection", "max_subscriptions_per_user"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{PREFIX}{name.upper()} must be at least 1")
        if self.subscription_recheck < 1:
            raise ConfigError(f"{PREFIX}SUBSCRIPTION_RECHECK must be at least 1 second")
        for name in ("messages_per_minute", "reminder_ahead_minutes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{PREFIX}{name.upper()} must be at least 1")
        for name in ("reconcile_every", "job_lease"):
            if getattr(self, name) < 0:
                raise ConfigError(
                    f"{PREFIX}{name.upper()} is seconds and cannot be negative, not {getattr(self, name)}"
                )

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        env_file: Path | str | None = None,
        **overrides: Any,
    ) -> Settings:
        """Build settings from the environment and an optional ``.env`` file.

        Args:
            environ: the variables to read; ``os.environ`` when omitted.
            env_file: a dotenv file; defaults to ``$OGCRM_ENV_FILE`` or ``./.env``.
            overrides: field values that win over everything (used by the CLI's flags).

        Raises:
            ConfigError: a variable has a value of the wrong type, or is unknown.
        """
        env = dict(os.environ if environ is None else environ)
        path = Path(env_file or env.get(f"{PREFIX}ENV_FILE") or ".env")
        merged: dict[str, str] = {}
        if path.is_file():
            merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
        merged.update(env)

        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in merged.items():
            if not key.startswith(PREFIX) or key == f"{PREFIX}ENV_FILE":
                continue
            name = key[len(PREFIX) :].lower()
            if name not in known:
                # Test-only and tool variables share the prefix; ignore, do not guess.
                continue
            kind = known[name].type
            if kind == "bool":
                values[name] = _parse_bool(name, raw)
            elif kind == "int":
                values[name] = _parse_int(name, raw)
            elif kind == "Path":
                values[name] = Path(raw).expanduser()
            else:
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uses_redis(self) -> bool:
        return bool(self.redis_url)

    def with_secret_key(self) -> Settings:
        """Return settings whose ``secret_key`` is set, generating and keeping one if needed.

        The key file is created atomically (``O_EXCL``) with mode 0600, so two processes
        starting together on a fresh installation agree on one key.
        """
        if self.secret_key:
            return self
        return replace(self, secret_key=load_or_create_secret_key(self.data_dir))


def load_or_create_secret_key(data_dir: Path) -> str:
    """Read the key kept in ``data_dir``, creating it with 256 random bits on first use.

    The key is written to a temporary file and then hard-linked into place, which fails
    if the file already exists: two processes starting together on a fresh installation
    therefore agree on one key, and nobody ever reads a half-written file.
    """
    path = data_dir / SECRET_KEY_FILENAME
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".ogcrm-secret-")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_urlsafe(32) + "\n")
            os.chmod(tmp, 0o600)
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race; use its key
        finally:
            os.unlink(tmp)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise ConfigError(
            f"{path} holds a secret key shorter than 32 characters; "
            f"delete it to generate a new one or set {PREFIX}SECRET_KEY"
        )
    return key
