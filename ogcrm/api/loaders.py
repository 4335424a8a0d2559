"""DataLoaders, built per request: one batched, scoped query per relation per request,
whatever the page size."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from strawberry.dataloader import DataLoader

from ogcrm.accounts import contacts, organizations
from ogcrm.accounts.contacts import ContactDetails
from ogcrm.auth import users
from ogcrm.auth.principal import Principal
from ogcrm.datasets import queries as dataset_queries
from ogcrm.db.models import Contact, Dataset, Organization, Rule
from ogcrm.scoring import rule_sets

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
        self.dataset: DataLoader[int, Dataset | None] = DataLoader(self._datasets)
        self.source_name: DataLoader[int, str | None] = DataLoader(self._source_names)
        self.user_name: DataLoader[int, str | None] = DataLoader(self._user_names)
        self.rules_of: DataLoader[int, list[Rule]] = DataLoader(self._rules_of)

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

    async def _datasets(self, ids: Sequence[int]) -> list[Dataset | None]:
        found = await self._ctx.read(
            dataset_queries.datasets_by_ids, self._ctx.require_principal(), ids
        )
        return [found.get(i) for i in ids]

    async def _source_names(self, ids: Sequence[int]) -> list[str | None]:
        found = await self._ctx.read(dataset_queries.source_names, ids)
        return [found.get(i) for i in ids]

    async def _user_names(self, ids: Sequence[int]) -> list[str | None]:
        # names only, of whoever uploaded, reviewed or saved what the caller may read
        found = await self._ctx.read(users.display_names, ids)
        return [found.get(i) for i in ids]

    async def _rules_of(self, rule_set_ids: Sequence[int]) -> list[list[Rule]]:
        found = await self._ctx.read(rule_sets.rules_by_set, rule_set_ids)
        return [found.get(i, []) for i in rule_set_ids]
