"""Who is acting: a signed-in user with their role's grants, or the system itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ogcrm.db.models import Action, Scope


@dataclass(frozen=True)
class Principal:
    """The identity every service call is made on behalf of.

    ``grants`` maps ``(entity kind, action)`` to a scope; a missing entry means no access.
    Built once per request from the database, so a role edited by an admin applies to
    the next request.
    """

    user_id: int | None
    role: str
    grants: Mapping[tuple[str, Action], Scope]
    session_id: int | None = None
    client_addr: str | None = None
    email: str | None = None
    #: Names of the roles' extra abilities are kept out on purpose: every right is a grant.
    is_system: bool = field(default=False)

    @cached_property
    def identity(self) -> tuple[Any, ...]:
        """Everything its scope in SQL is built from (the user, every grant): the key
        under which a statement built for it may be used again."""
        return (self.user_id, self.is_system, frozenset(self.grants.items()))

    def scope(self, entity: str, action: Action) -> Scope:
        if self.is_system:
            return Scope.ALL
        return self.grants.get((entity, action), Scope.NONE)


def system_principal(reason: str = "system") -> Principal:
    """The identity of jobs and CLI maintenance: every scope is ``all``, audited as ``reason``."""
    return Principal(user_id=None, role=reason, grants={}, is_system=True)
