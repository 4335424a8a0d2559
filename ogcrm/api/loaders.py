"""DataLoaders, built per request: one batched, scoped query per relation per request,
whatever the page size."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session
from strawberry.dataloader import DataLoader

from ogcrm.accounts import contacts, organizations, worklist
from ogcrm.auth import users
from ogcrm.auth.principal import Principal
from ogcrm.datasets import queries as dataset_queries
from ogcrm.db.models import Dataset, Organization, Rule
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
        self.last_interaction: DataLoader[int, Any] = DataLoader(self._last_interactions)
        self.open_tasks: DataLoader[int, list[Any]] = DataLoader(self._open_tasks)
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
        return await self._ctx.read(self._fetch_contacts, org_ids, ())

    def contacts_with(self, kinds: tuple[str, ...]) -> DataLoader[int, list[Any]]:
        """Contacts of each organization with the contact points (``kinds``) the query
        asked for, as ``(row, {kind: values})``: a page of 150 contacts then resolves
        their e-mails as plain values, not 150 awaited loads (about a third of the
        page's time in graphql-core's awaitable handling)."""
        if not kinds:
            return self.contacts_of
        if kinds not in self._contacts_with:

            async def load(org_ids: Sequence[int]) -> list[list[Any]]:
                found = await self._ctx.read(self._fetch_contacts, org_ids, kinds)
                await self._audit_contacts(found, kinds)
                return found

            self._contacts_with[kinds] = DataLoader(load)
        return self._contacts_with[kinds]

    def _fetch_contacts(
        self, session: Session, org_ids: Sequence[int], kinds: tuple[str, ...]
    ) -> list[list[Any]]:
        principal = self._ctx.require_principal()
        found: Mapping[int, list[Any]]
        if not kinds:
            found = contacts.contacts_by_organization(session, principal, org_ids)
        else:
            found = contacts.contacts_with_points(session, principal, org_ids, kinds)
        return [found.get(i, []) for i in org_ids]

    async def _audit_contacts(self, found: Iterable[list[Any]], kinds: tuple[str, ...]) -> None:
        # reading e-mails or phones is audited; names and titles are not
        if kinds:
            await self._ctx.audit_read("contact", [row.id for rows in found for row, _ in rows])

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
        return await self._ctx.read(self._fetch_users, ids)

    def _fetch_users(self, session: Session, ids: Sequence[int]) -> list[tuple[Any, str] | None]:
        found = users.users_with_roles(session, self._ctx.require_principal(), ids)
        by_id = {u.id: (u, role) for u, role in found}
        return [by_id.get(i) for i in ids]

    async def _last_interactions(self, org_ids: Sequence[int]) -> list[Any]:
        return await self._ctx.read(self._fetch_last_interactions, org_ids)

    def _fetch_last_interactions(self, session: Session, org_ids: Sequence[int]) -> list[Any]:
        found = worklist.last_interactions(session, self._ctx.require_principal(), org_ids)
        return [found.get(i) for i in org_ids]

    async def _open_tasks(self, org_ids: Sequence[int]) -> list[list[Any]]:
        return await self._ctx.read(self._fetch_open_tasks, org_ids)

    def _fetch_open_tasks(self, session: Session, org_ids: Sequence[int]) -> list[list[Any]]:
        found = worklist.open_tasks(session, self._ctx.require_principal(), org_ids)
        return [found.get(i, []) for i in org_ids]

    async def _explanations(
        self, snapshot_ids: Sequence[int]
    ) -> list[worklist.StoredExplanation | None]:
        return await self._ctx.read(self._fetch_explanations, snapshot_ids)

    def _fetch_explanations(
        self, session: Session, snapshot_ids: Sequence[int]
    ) -> list[worklist.StoredExplanation | None]:
        # keyed by snapshot: only reachable through an organization already read in scope
        found = worklist.explanations(session, snapshot_ids)
        return [found.get(i) for i in snapshot_ids]

    async def _headlines(self, org_ids: Sequence[int]) -> list[dict[str, Any]]:
        return await self._ctx.read(self._fetch_headlines, org_ids)

    def _fetch_headlines(self, session: Session, org_ids: Sequence[int]) -> list[dict[str, Any]]:
        # keyed by organization: only reachable through one already read in scope
        found = worklist.headline_figures(session, org_ids)
        return [found.get(i, {}) for i in org_ids]

    # ------------------------------------------------------------- looking ahead

    def ahead(self, fields: tuple[str, ...], contact_kinds: tuple[str, ...]) -> Ahead:
        """What a page of organizations will be asked (``fields``, GraphQL names of
        :class:`ogcrm.api.types.organization.Organization`, and the contact points
        asked of its ``contacts``), to read in the page's own trip to the database:
        the loaders the nested fields call are then primed, and a page of 50 accounts
        with their contacts, owner, explanation, last interaction and open tasks
        makes one hand-off to a worker thread instead of six."""
        return Ahead(self, frozenset(fields), contact_kinds)

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


#: The Organization fields :class:`Ahead` reads with the page, by the loader each uses.
AHEAD_FIELDS = (
    "contacts",
    "owner",
    "explanation",
    "lastInteraction",
    "openTasks",
    "nextTaskDue",
    "headline",
)


class Ahead:
    """The relations a page of organizations will be asked for, read by
    :meth:`fetch` inside the page's job (in the worker thread, with its session) and
    handed to the loaders by :meth:`prime` (on the event loop, where loaders live).

    Each relation is read by the same function its loader batches with, so a field
    resolves the same whether it was read ahead or loaded.
    """

    def __init__(
        self, loaders: Loaders, fields: frozenset[str], contact_kinds: tuple[str, ...]
    ) -> None:
        self._loaders = loaders
        self._fields = fields
        self._kinds = contact_kinds
        #: What :meth:`fetch` read, by the loader of its relation, by key.
        self._found: dict[DataLoader[int, Any], dict[int, Any]] = {}
        self._contacts: list[list[Any]] = []

    def fetch(
        self,
        session: Session,
        org_ids: Sequence[int],
        owner_ids: Iterable[int | None] = (),
        snapshot_ids: Iterable[int | None] = (),
    ) -> None:
        """Read what was asked of these organizations; their owners and score snapshots
        are passed for the relations keyed by them."""
        if not org_ids:
            return
        asked, got, ids = self._fields, self._loaders, list(org_ids)
        found = self._found
        if "contacts" in asked:
            self._contacts = got._fetch_contacts(session, ids, self._kinds)
            found[got.contacts_with(self._kinds)] = dict(zip(ids, self._contacts, strict=True))
        if "owner" in asked:
            owners = sorted({i for i in owner_ids if i is not None})
            if owners:
                found[got.user] = dict(zip(owners, got._fetch_users(session, owners), strict=True))
        if "explanation" in asked:
            snapshots = sorted({i for i in snapshot_ids if i is not None})
            if snapshots:
                explained = got._fetch_explanations(session, snapshots)
                found[got.explanation] = dict(zip(snapshots, explained, strict=True))
        if "lastInteraction" in asked:
            latest = got._fetch_last_interactions(session, ids)
            found[got.last_interaction] = dict(zip(ids, latest, strict=True))
        if asked & {"openTasks", "nextTaskDue"}:
            tasks = got._fetch_open_tasks(session, ids)
            found[got.open_tasks] = dict(zip(ids, tasks, strict=True))
        if "headline" in asked:
            figures = got._fetch_headlines(session, ids)
            found[got.headline] = dict(zip(ids, figures, strict=True))

    async def prime(self) -> None:
        """Give the loaders what :meth:`fetch` read (and audit the contact points read)."""
        for loader, values in self._found.items():
            loader.prime_many(values)
        if self._contacts:
            await self._loaders._audit_contacts(self._contacts, self._kinds)

    def value(self, loader: DataLoader[int, Any], key: int) -> Any:
        """What was read ahead for ``key`` of ``loader``'s relation, or :data:`NOT_READ`:
        a resolver then returns it as it is, without a coroutine for graphql-core to
        schedule and await for each of the page's rows."""
        return self._found.get(loader, {}).get(key, NOT_READ)

    def contacts_of(self, org_id: int) -> tuple[tuple[str, ...], list[Any]] | None:
        """An organization's contacts as read ahead, with the points read (``kinds``,
        ``rows``), or ``None``."""
        rows = self.value(self._loaders.contacts_with(self._kinds), org_id)
        return None if rows is NOT_READ else (self._kinds, rows)


#: :meth:`Ahead.value` of a relation or a key the page did not read ahead.
NOT_READ: Any = object()
