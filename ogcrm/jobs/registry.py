"""The registry of jobs: each domain declares its own (``ogcrm/<domain>/tasks.py``) with
:func:`job`, and what its jobs owe after a lost message with :func:`owed`; a broker gets
them all from :func:`declare`.

A job is a plain function whose first argument is the :class:`JobRuntime` and whose
others are JSON primitives (ids, never objects or file bodies). Its body calls one
service; idempotency comes from the guarded state transitions underneath, so a message
delivered twice finds nothing to do the second time.

Retries: bad input (the exception types a job declares in ``throws``) fails at once;
database faults (a dropped connection, a restart) are retried with backoff.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dramatiq
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError

from ogcrm.db.session import Database
from ogcrm.jobs.runtime import JobRuntime, RuntimeFactory

JobFunction = Callable[..., None]
#: ``(database, cutoff) -> {job name: [ids]}``: what is owed since before ``cutoff``.
OwedFunction = Callable[[Database, dt.datetime], dict[str, list[int]]]


@dataclass(frozen=True)
class JobSpec:
    name: str
    fn: JobFunction
    throws: tuple[type[BaseException], ...] = ()
    time_limit_ms: int = 60 * 60 * 1000

    @property
    def queue(self) -> str:
        return self.name.split(".", 1)[0]


JOBS: dict[str, JobSpec] = {}
OWED: list[OwedFunction] = []


def job(
    name: str, *, throws: tuple[type[BaseException], ...] = ()
) -> Callable[[JobFunction], JobFunction]:
    """Declare ``fn(runtime, *args)`` as the job ``name`` (dotted: ``domain.verb``)."""

    def register(fn: JobFunction) -> JobFunction:
        existing = JOBS.get(name)
        if existing is not None and existing.fn is not fn:
            raise ValueError(f"job {name!r} is declared twice")
        JOBS[name] = JobSpec(name, fn, throws)
        return fn

    return register


def owed(fn: OwedFunction) -> OwedFunction:
    """Declare what the reconciler should re-send (see :mod:`ogcrm.jobs.reconciler`)."""
    if fn not in OWED:
        OWED.append(fn)
    return fn


def retry_when(retries: int, exc: Exception) -> bool:
    """Retry database faults a few times; never bad input. A broken constraint or a
    value a column cannot hold is the data's fault, the same on every try."""
    if isinstance(exc, (IntegrityError, DataError)):
        return False
    return retries < 5 and isinstance(exc, (OperationalError, DBAPIError))


def _bound(spec: JobSpec, runtime: RuntimeFactory) -> Callable[..., None]:
    @functools.wraps(spec.fn)
    def run(*args: Any, **kwargs: Any) -> None:
        spec.fn(runtime(), *args, **kwargs)

    return run


def declare(broker: dramatiq.Broker, runtime: RuntimeFactory) -> None:
    """Declare every registered job on ``broker``, running with ``runtime()``."""
    for spec in JOBS.values():
        if spec.name in broker.actors:
            continue
        dramatiq.Actor(
            _bound(spec, runtime),
            broker=broker,
            actor_name=spec.name,
            queue_name=spec.queue,
            priority=0,
            options={
                "max_retries": 5,
                "min_backoff": 1_000,
                "max_backoff": 60_000,
                "time_limit": spec.time_limit_ms,
                "throws": spec.throws,
                "retry_when": retry_when,
            },
        )


__all__ = ["JOBS", "OWED", "JobRuntime", "JobSpec", "declare", "job", "owed", "retry_when"]
