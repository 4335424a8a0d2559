"""DataLoaders, built per request: one batched, scoped query per relation per request,
whatever the page size."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from strawberry.dataloader import DataLoader

from ogcrm.accounts import contacts, organizations, worklist
from ogcrm.auth import users
from ogcrm.auth.principal import Principal
from ogcrm.datasets import queries as dataset_queries
from ogcrm.db.models import Dataset, Interaction, Organization, Rule, Task
from ogcrm.scoring import rule_sets

T = TypeVar("T")


class Request(Protocol):
    """What the loaders need of a request: its caller, and a way to run a service in a
    read session or a unit of work (:class:`ogcrm.api.context.Context` is one)."""

    def require_principal(self) -> Principal: ...

    async def audit_read(self, entity: str, ids: Iterable[int]) -> None: ...

    async def read(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...

    async def write(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...


class Loaders:
    def __init__(self, ctx: Request) -> None:
        self._ctx = ctx
        self.organization: DataLoader[int, Organization | None] = DataLoader(self._organizations)
        self.contacts_of: DataLoader[int, list[Any]] = DataLoader(self._contacts_of)
        self._contacts_with: dict[tuple[str, ...], DataLoader[int, list[Any]]] = {}
        self.contact_emails: DataLoader[int, list[str]] = DataLoader(
            lambda ids: self._contact_points(ids, "emails")
        )
        self.contact_phones: DataLoader[int, list[str]] = DataLoader(
            lambda ids: self._contact_points(ids, "phones")
        )
        self.dataset: DataLoader[int, Dataset | None] = DataLoader(self._datasets)
        self.source_name: DataLoader[int, str | None] = DataLoader(self._source_names)
        self.user_name: DataLoader[int, str | None] = DataLoader(self._user_names)
        self.rules_of: DataLoader[int, list[Rule]] = DataLoader(self._rules_of)
        self.user: DataLoader[int, tuple[Any, str] | None] = DataLoader(self._users)
        self.last_interaction: DataLoader[int, Interaction | None] = DataLoader(
            self._last_interactions
        )
        self.open_tasks: DataLoader[int, list[Task]] = DataLoader(self._open_tasks)
        self.explanation: DataLoader[int, worklist.StoredExplanation | None] = DataLoader(
            self._explanations
        )
        self.headline: DataLoader[int, dict[str, Any]] = DataLoader(self._headlines)
        self._per_org: dict[tuple[Any, ...], DataLoader[int, Any]] = {}

    async def _organizations(self, ids: Sequence[int]) -> list[Organization | None]:
        found = await self._ctx.read(
            organizations.organizations_by_ids, self._ctx.require_principal(), ids
        )
        return [found.get(i) for i in ids]

    async def _contacts_of(self, org_ids: Sequence[int]) -> list[list[Any]]:
        found = await self._ctx.read(
            contacts.contacts_by_organization, self._ctx.require_principal(), org_ids
        )
        return [found.get(i, []) for i in org_ids]

    def contacts_with(self, kinds: tuple[str, ...]) -> DataLoader[int, list[Any]]:
        """Contacts of each organization with the contact points (``kinds``) the query
        asked for, as ``(row, {kind: values})``: a page of 150 contacts then resolves
        their e-mails as plain values, not 150 awaited loads (about a third of the
        page's time in graphql-core's awaitable handling)."""
        if not kinds:
            return self.contacts_of
        if kinds not in self._contacts_with:

            async def load(org_ids: Sequence[int]) -> list[list[Any]]:
                found = await self._ctx.read(
                    contacts.contacts_with_points, self._ctx.require_principal(), org_ids, kinds
                )
                await self._ctx.audit_read(
                    "contact", [row.id for rows in found.values() for row, _ in rows]
                )
                return [found.get(i, []) for i in org_ids]

            self._contacts_with[kinds] = DataLoader(load)
        return self._contacts_with[kinds]

    async def _contact_points(self, ids: Sequence[int], kind: str) -> list[list[str]]:
        # Only the kind the query asked for; the request audits the read once, at its end.
        found = await self._ctx.read(
            contacts.contact_details,
            self._ctx.require_principal(),
            ids,
            kinds=(kind,),
            audited=False,
        )
        await self._ctx.audit_read("contact", found)
        return [getattr(found[i], kind) if i in found else [] for i in ids]

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

    async def _users(self, ids: Sequence[int]) -> list[tuple[Any, str] | None]:
        found = await self._ctx.read(users.users_with_roles, self._ctx.require_principal(), ids)
        by_id = {u.id: (u, role) for u, role in found}
        return [by_id.get(i) for i in ids]

    async def _last_interactions(self, org_ids: Sequence[int]) -> list[Interaction | None]:
        found = await self._ctx.read(
            worklist.last_interactions, self._ctx.require_principal(), org_ids
        )
        return [found.get(i) for i in org_ids]

    async def _open_tasks(self, org_ids: Sequence[int]) -> list[list[Task]]:
        found = await self._ctx.read(worklist.open_tasks, self._ctx.require_principal(), org_ids)
        return [found.get(i, []) for i in org_ids]

    async def _explanations(
        self, snapshot_ids: Sequence[int]
    ) -> list[worklist.StoredExplanation | None]:
        # keyed by snapshot: only reachable through an organization already read in scope
        found = await self._ctx.read(worklist.explanations, snapshot_ids)
        return [found.get(i) for i in snapshot_ids]

    async def _headlines(self, org_ids: Sequence[int]) -> list[dict[str, Any]]:
        # keyed by organization: only reachable through one already read in scope
        found = await self._ctx.read(worklist.headline_figures, org_ids)
        return [found.get(i, {}) for i in org_ids]

    def per_org(
        self, fn: Callable[..., dict[int, Any]], *params: Any, scoped: bool = False
    ) -> DataLoader[int, Any]:
        """A loader of ``fn(session, [principal,] org_ids, *params)`` keyed by organization,
        one per function and parameters (``first``, a filter) in this request: fifty
        accounts asking for their last 10 wells are one statement."""
        key = (fn, params, scoped)
        if key not in self._per_org:

            async def load(org_ids: Sequence[int]) -> list[Any]:
                lead = (self._ctx.require_principal(),) if scoped else ()
                found = await self._ctx.read(fn, *lead, org_ids, *params)
                return [found.get(i, []) for i in org_ids]

            self._per_org[key] = DataLoader(load)
        return self._per_org[key]
