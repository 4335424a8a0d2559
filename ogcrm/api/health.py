"""Is this installation able to serve? Database, schema revision, job broker."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import dramatiq
from sqlalchemy import text

import ogcrm
from ogcrm.db import migrate
from ogcrm.db.session import Database
from ogcrm.jobs.broker import broker_status


@dataclass(frozen=True)
class Health:
    ok: bool
    checks: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "unavailable",
            "version": ogcrm.__version__,
            **self.checks,
        }


def check_health(db: Database, broker: dramatiq.Broker) -> Health:
    """Probe each dependency; a failure is reported, never raised."""
    database: dict[str, Any] = {"backend": db.engine.dialect.name, "ok": True}
    schema: dict[str, Any] = {"ok": False}
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # unreachable for any reason: report it
        database.update(ok=False, error=f"{type(exc).__name__}: {exc}".splitlines()[0])
    if database["ok"]:
        status = migrate.schema_status(db.engine)
        schema = {
            "ok": status.at_head,
            "current": list(status.current),
            "head": status.head,
        }
        if not status.at_head:
            schema["error"] = "schema is not at head: run `ogcrm db upgrade`"
    broker_info = asdict(broker_status(broker))
    ok = database["ok"] and schema["ok"] and broker_info["ok"]
    return Health(ok=ok, checks={"database": database, "schema": schema, "broker": broker_info})
