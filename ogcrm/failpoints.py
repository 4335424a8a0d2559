"""Deterministic faults for tests: ``OGCRM_FAILPOINT=merge.after_batch:sigkill`` makes a
job kill its own process at that point, every time, the way a crash would;
``raise`` raises :class:`FailpointError`; ``sleep=S`` holds the job there for S seconds,
so that a test can interfere (kill the worker, drop the connection) at a known point
rather than racing a fast job.

Read from the environment at the moment the point is reached, so a worker process
started with the variable fails and one started without it does not. Never set it in
production.
"""

from __future__ import annotations

import os
import signal
import time


class FailpointError(RuntimeError):
    """Raised by a failpoint whose action is ``raise``."""


def failpoint(name: str) -> None:
    """Do what ``OGCRM_FAILPOINT`` asks at ``name`` (nothing, almost always)."""
    spec = os.environ.get("OGCRM_FAILPOINT", "")
    for item in spec.split(","):
        point, _, action = item.strip().partition(":")
        if point != name:
            continue
        if action == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        if action == "raise":
            raise FailpointError(f"failpoint {name}")
        if action.startswith("sleep="):
            time.sleep(float(action.removeprefix("sleep=")))
