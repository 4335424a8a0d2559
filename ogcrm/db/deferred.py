"""Work that must wait for the transaction to commit: jobs to send, events to publish.

A job sent, or an event published, before the commit races it: a worker, or a
subscriber, may act on a row that is not visible yet, or that a rollback takes back.
So the work is kept on the session and done from SQLAlchemy's session events.

Those events fire for savepoints too (``begin_nested``, which services use to turn a
unique-key race into a typed error): ``after_commit`` when a savepoint is released,
``after_soft_rollback`` when one is rolled back. So here:

- only the outermost commit delivers;
- a savepoint rolled back drops only what was kept inside it;
- the transaction rolled back drops everything.

Delivering at the first savepoint released was a real race: on PostgreSQL the demo's
rescore job read an account before the call logged on it had committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction


class _Kept:
    def __init__(self, deliver: Callable[[list[Any]], None]) -> None:
        self.deliver = deliver
        self.items: list[tuple[SessionTransaction | None, Any]] = []

    def committed(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint was released: nothing is committed yet
        items, self.items = self.items, []
        if items:
            self.deliver([item for _, item in items])

    def rolled_back(self, session: Session, previous: SessionTransaction) -> None:
        if not previous.nested:
            self.items.clear()
            return

        def inside(transaction: SessionTransaction | None) -> bool:
            while transaction is not None:
                if transaction is previous:
                    return True
                transaction = transaction.parent
            return False

        self.items = [(where, item) for where, item in self.items if not inside(where)]


def on_commit(session: Session, kind: str, item: Any, deliver: Callable[[list[Any]], None]) -> None:
    """Keep ``item`` until the session's outermost transaction commits, then call
    ``deliver`` once with every item of this ``kind`` kept meanwhile, in order.

    The first call of a kind on a session fixes its ``deliver``.
    """
    slot = f"ogcrm.deferred.{kind}"
    kept: _Kept | None = session.info.get(slot)
    if kept is None:
        kept = session.info[slot] = _Kept(deliver)
        event.listen(session, "after_commit", kept.committed)
        event.listen(session, "after_soft_rollback", kept.rolled_back)
    kept.items.append((session.get_nested_transaction() or session.get_transaction(), item))
