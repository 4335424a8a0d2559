"""Ids as clients send them, read into the integers the services take, and Relay page
info; shared by queries and mutations."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay

from ogcrm.errors import InvalidInput


def local_id(gid: relay.GlobalID, expected: str, *, field: str = "id") -> int:
    """The database id inside a global id of type ``expected``; another type's id, or a
    malformed one, is refused naming ``field``."""
    if gid.type_name != expected:
        raise InvalidInput(f"expected a {expected} id, got a {gid.type_name} id", field=field)
    try:
        return int(gid.node_id)
    except ValueError:
        raise InvalidInput(f"invalid {expected} id", field=field) from None


def int_id(value: strawberry.ID, field: str) -> int:
    """A plain numeric id (users, teams: not yet Relay nodes)."""
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{field} must be a number", field=field) from None


def page_info(edges: list[Any], *, has_next: bool, after: str | None) -> relay.PageInfo:
    return relay.PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
