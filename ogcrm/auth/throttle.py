"""Login throttling per account and per client address.

Counted inside the login service, once per attempt — not per HTTP request — so aliases
and batched operations cannot multiply attempts (VilnaCRM-Org/user-service#315). With
Redis the windows are shared by every API process; embedded, they live in memory.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ogcrm.config import Settings

#: Unauthenticated events written down per minute: one per address, this many in all.
UNAUTHENTICATED_PER_MINUTE = 60
_ONE_A_MINUTE = parse("1/minute")
_GLOBAL = parse(f"{UNAUTHENTICATED_PER_MINUTE}/minute")


class LoginThrottle:
    def __init__(self, settings: Settings) -> None:
        uri = settings.redis_url or "memory://"
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri))
        self._per_account = parse(settings.login_rate_per_account)
        self._per_address = parse(settings.login_rate_per_address)
        self._per_account_total = parse(settings.login_rate_per_account_total)
        self._namespace = f"{settings.instance_name}:login"

    def hit(self, email: str, client_addr: str | None) -> int | None:
        """Count one attempt; return seconds to wait if any window is exhausted.

        The tight per-account window counts attempts from one address: someone who
        knows a rep's e-mail cannot keep the rep out by failing five times from their
        own machine (finding 9 of the outside attack)."""
        account = email.strip().lower()
        checks = [
            (self._per_account, "account", f"{account}|{client_addr or '-'}"),
            (self._per_account_total, "account-total", account),
        ]
        if client_addr:
            checks.append((self._per_address, "address", client_addr))
        waits = []
        for limit, kind, key in checks:
            if not self._limiter.hit(limit, self._namespace, kind, key):
                reset = self._limiter.get_window_stats(limit, self._namespace, kind, key).reset_time
                waits.append(max(1, math.ceil(reset - time.time())))
        return max(waits) if waits else None

    def worth_recording(self, event: str, client_addr: str | None) -> bool:
        """Whether an unauthenticated event (a refused token) from ``client_addr`` should
        be written down: the first per address each minute and at most
        ``UNAUTHENTICATED_PER_MINUTE`` from everywhere, so traffic without an account can
        never grow the append-only audit log (or the log file) faster than that."""
        per_address = self._limiter.hit(_ONE_A_MINUTE, self._namespace, event, client_addr or "-")
        return per_address and self._limiter.hit(_GLOBAL, self._namespace, event, "*")
