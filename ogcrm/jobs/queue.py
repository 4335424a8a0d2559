"""Sending jobs by name, after the transaction that calls for them commits.

Sending inside a transaction races the commit: a worker can pick the message up before
the row it names is visible (AlmaLinux/build-system#541). So :func:`after_commit` keeps
the message on the session and sends it once the outermost transaction commits; a
rollback drops it (:mod:`ogcrm.db.deferred`, which also minds savepoints).

Domain code does not hold a broker. A process that works jobs (``ogcrm serve``, ``ogcrm
worker``) binds its broker to its :class:`~ogcrm.db.session.Database` once
(:func:`bind`); every session of that database then carries it, and :func:`enqueue`
finds it there. A process that binds none (the CLI, a test's session) gets ``False``
from :func:`enqueue` and does the work itself where that makes sense (a rescore), or
is told that no job can be sent.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from sqlalchemy.orm import Session

from ogcrm.db.deferred import on_commit
from ogcrm.db.session import Database

_BROKER = "ogcrm.jobs.broker"


class NoBroker(RuntimeError):
    """A job had to be sent, but this process has no broker bound to its database."""


def bind(db: Database, broker: dramatiq.Broker | None) -> None:
    """Send the jobs of ``db``'s sessions to ``broker`` (``None`` unbinds)."""
    if broker is None:
        db.info.pop(_BROKER, None)
    else:
        db.info[_BROKER] = broker


def bound_broker(session: Session) -> dramatiq.Broker | None:
    """The broker this session's jobs go to, if its process bound one."""
    broker: dramatiq.Broker | None = session.info.get(_BROKER)
    return broker


def send(broker: dramatiq.Broker, job: str, *args: Any) -> None:
    """Send a job by name now (call only after the transaction that made it necessary)."""
    broker.get_actor(job).send(*args)


def after_commit(session: Session, broker: dramatiq.Broker, job: str, *args: Any) -> None:
    """Send ``job`` once the session's transaction has committed (never if it, or the
    savepoint it was asked for in, rolls back)."""
    on_commit(session, "jobs", (broker, job, args), _send_all)


def enqueue(session: Session, job: str, *args: Any) -> bool:
    """Send ``job`` after commit to the broker bound to the session's database;
    ``False`` (nothing queued) when none is bound."""
    broker = bound_broker(session)
    if broker is None:
        return False
    after_commit(session, broker, job, *args)
    return True


def require_enqueue(session: Session, job: str, *args: Any) -> None:
    """Like :func:`enqueue`, for a job nothing else can do: no broker is an error."""
    if not enqueue(session, job, *args):
        raise NoBroker(f"cannot send {job}: no job broker is bound to this database")


def _send_all(items: list[tuple[dramatiq.Broker, str, tuple[Any, ...]]]) -> None:
    for broker, job, args in items:
        send(broker, job, *args)
