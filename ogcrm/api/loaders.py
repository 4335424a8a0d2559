"""DataLoaders, built per request: one batched, scoped query per relation per request,
whatever the page size."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from strawberry.dataloader import DataLoader

from ogcrm.accounts import contacts, organizations
from ogcrm.accounts.contacts import ContactDetails
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Contact, Organization

T = TypeVar("T")


class Request(Protocol):
    """What the loaders need of a request: its caller, and a way to run a service in a
    read session or a unit of work (:class:`ogcrm.api.context.Context` is one)."""

    def require_principal(self) -> Principal: ...

    async def read(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...

    async def write(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...


class Loaders:
    def __init__(self, ctx: Request) -> None:
        self._ctx = ctx
        self.organization: DataLoader[int, Organization | None] = DataLoader(self._organizations)
        self.contacts_of: DataLoader[int, list[Contact]] = DataLoader(self._contacts_of)
        self.contact_details: DataLoader[int, ContactDetails | None] = DataLoader(
            self._contact_details
        )

    async def _organizations(self, ids: Sequence[int]) -> list[Organization | None]:
        found = await self._ctx.read(
            organizations.organizations_by_ids, self._ctx.require_principal(), ids
        )
        return [found.get(i) for i in ids]

    async def _contacts_of(self, org_ids: Sequence[int]) -> list[list[Contact]]:
        found = await self._ctx.read(
            contacts.contacts_by_organization, self._ctx.require_principal(), org_ids
        )
        return [found.get(i, []) for i in org_ids]

    async def _contact_details(self, ids: Sequence[int]) -> list[ContactDetails | None]:
        # A write: every read of contact details appends audit events.
        found = await self._ctx.write(contacts.contact_details, self._ctx.require_principal(), ids)
        return [found.get(i) for i in ids]
