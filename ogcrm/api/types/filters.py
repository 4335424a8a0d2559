"""Filter inputs of the organization lists, read into the service's filter."""

from __future__ import annotations

import enum

import strawberry
from strawberry import relay

from ogcrm.accounts import worklist
from ogcrm.api.ids import optional_id, user_pk
from ogcrm.errors import InvalidInput


@strawberry.enum(description="Whose accounts.")
class OwnerIs(enum.Enum):
    MINE = "mine"
    UNOWNED = "unowned"
    TEAM = "team"


@strawberry.input(one_of=True, description="Exactly one: a user's accounts, or `is`.")
class OwnerFilter:
    user: relay.GlobalID | None = strawberry.UNSET
    is_: OwnerIs | None = strawberry.field(default=strawberry.UNSET, name="is")


@strawberry.input(description="Tag names: any of them, and/or all of them.")
class TagFilter:
    any: list[str] | None = None
    all: list[str] | None = None


@strawberry.input(description="A priority range, bounds included.")
class PriorityRange:
    gte: float | None = None
    lte: float | None = None


@strawberry.input(
    description="Has a permit matching all of these, e.g. issued in REEVES county in the "
    'last 90 days: `{county: "REEVES", withinDays: 90}`.'
)
class PermitFilter:
    county: str | None = None
    state: str | None = None
    within_days: int | None = None


@strawberry.input(description="Every given part must hold.")
class OrganizationFilter:
    owner: OwnerFilter | None = None
    state: str | None = strawberry.field(
        default=None, description="Postal code or name of the state of the address."
    )
    county: str | None = strawberry.field(
        default=None,
        description="A county name (REEVES) or 5-digit FIPS code (48389): operates a well "
        "or holds a permit there.",
    )
    tags: TagFilter | None = None
    priority: PriorityRange | None = None
    search: str | None = strawberry.field(
        default=None, description="Name (start of any word), alias, or operator number."
    )
    permit: PermitFilter | None = None
    segment: relay.GlobalID | None = strawberry.field(
        default=None, description="Members of this segment."
    )
    no_interaction_for_days: int | None = strawberry.field(
        default=None, description="Nobody logged an interaction for this many days (or ever)."
    )


@strawberry.enum(description="List order.")
class OrganizationOrder(enum.Enum):
    PRIORITY = "priority"
    NAME = "name"


def read_filter(
    f: OrganizationFilter | None, search: str | None = None
) -> worklist.OrganizationFilter:
    """The service's filter from the input (``search`` is the older top-level argument)."""
    f = f or OrganizationFilter()
    owner, owner_id = None, None
    if f.owner is not None:
        if f.owner.user:
            owner_id = user_pk(f.owner.user, "filter.owner.user")
        elif f.owner.is_:
            owner = worklist.Owner(f.owner.is_.value)
    if search is not None and f.search is not None:
        raise InvalidInput("give search once: as an argument or in filter", field="search")
    permit = None
    if f.permit is not None:
        permit = worklist.PermitFilter(f.permit.county, f.permit.state, f.permit.within_days)
    return worklist.OrganizationFilter(
        owner=owner,
        owner_id=owner_id,
        state=f.state,
        county=f.county,
        tags_any=tuple(f.tags.any or ()) if f.tags else (),
        tags_all=tuple(f.tags.all or ()) if f.tags else (),
        priority_gte=f.priority.gte if f.priority else None,
        priority_lte=f.priority.lte if f.priority else None,
        search=search if search is not None else f.search,
        permit=permit,
        no_interaction_days=f.no_interaction_for_days,
        segment_id=optional_id(f.segment, "Segment", "filter.segment"),
    )
