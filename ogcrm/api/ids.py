"""Ids as clients send them, read into the integers the services take, and Relay page
info; shared by queries and mutations."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from ogcrm.errors import InvalidInput

#: The largest id any table holds (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def local_id(gid: relay.GlobalID, expected: str, *, field: str = "id") -> int:
    """The database id inside a global id of type ``expected``; another type's id, or a
    malformed one, is refused naming ``field``."""
    if gid.type_name != expected:
        raise InvalidInput(f"expected a {expected} id, got a {gid.type_name} id", field=field)
    try:
        value = int(gid.node_id)
    except ValueError:
        raise InvalidInput(f"invalid {expected} id", field=field) from None
    if not 0 < value <= MAX_ID:  # a BIGINT on PostgreSQL; SQLite's rowid alike
        raise InvalidInput(f"invalid {expected} id", field=field)
    return value


def optional_id(gid_: relay.GlobalID | None, expected: str, field: str) -> int | None:
    """:func:`local_id` of an optional argument (``None`` stays ``None``)."""
    return local_id(gid_, expected, field=field) if gid_ is not None else None


def gid(type_name: str, value: int | None) -> relay.GlobalID | None:
    """The global id of a row of ``type_name`` (``None`` stays ``None``)."""
    return None if value is None else relay.GlobalID(type_name, str(value))


def user_pk(gid_: relay.GlobalID, field: str) -> int:
    """A user's database id from their global id (refused naming ``field``)."""
    return local_id(gid_, "User", field=field)


def page_info(edges: list[Any], *, has_next: bool, after: str | None) -> relay.PageInfo:
    return relay.PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
