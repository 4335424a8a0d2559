"""What admins do: users, roles' grants, teams."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.errors import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    ValidationError,
    guarded,
)
from ogcrm.api.queries import _int_id
from ogcrm.api.types.access import Action, Grant, Role, Scope, User
from ogcrm.auth import users
from ogcrm.db import models

_Errors = ValidationError | PermissionDenied | NotFound | AuthenticationError

UserResult = Annotated[User | _Errors, strawberry.union("UserResult")]
RoleResult = Annotated[Role | _Errors, strawberry.union("RoleResult")]


@strawberry.type
class Team:
    id: strawberry.ID
    name: str


TeamResult = Annotated[Team | _Errors, strawberry.union("TeamResult")]


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    role: str
    password: str


def _user(session, user: models.User) -> User:  # noqa: ANN001 (Session)
    role = session.scalar(select(models.Role.name).where(models.Role.id == user.role_id))
    return User.from_row(user, role)


@strawberry.type
class AdminMutations:
    @strawberry.mutation(description="Create a user (admins).")
    async def create_user(self, info: Info[Context, None], input: CreateUserInput) -> UserResult:
        ctx = info.context

        def _create(session) -> User:  # noqa: ANN001
            row = users.create_user(
                session,
                email=input.email,
                name=input.name,
                role=input.role,
                password=input.password,
                principal=ctx.require_principal(),
            )
            return _user(session, row)

        return await guarded(ctx, lambda: ctx.write(_create))  # type: ignore[return-value]

    @strawberry.mutation(
        description="Enable or disable a user; disabling signs them out everywhere."
    )
    async def set_user_active(
        self, info: Info[Context, None], id: strawberry.ID, active: bool
    ) -> UserResult:
        ctx = info.context

        def _set(session) -> User:  # noqa: ANN001
            return _user(
                session,
                users.set_user_active(session, ctx.require_principal(), _int_id(id, "id"), active),
            )

        return await guarded(ctx, lambda: ctx.write(_set))  # type: ignore[return-value]

    @strawberry.mutation(
        description="Sign a user out everywhere (every token they hold stops working)."
    )
    async def revoke_user_tokens(self, info: Info[Context, None], id: strawberry.ID) -> UserResult:
        ctx = info.context

        def _revoke(session) -> User:  # noqa: ANN001
            return _user(
                session,
                users.revoke_user_tokens(session, ctx.require_principal(), _int_id(id, "id")),
            )

        return await guarded(ctx, lambda: ctx.write(_revoke))  # type: ignore[return-value]

    @strawberry.mutation(description="Give a user another role.")
    async def set_user_role(
        self, info: Info[Context, None], id: strawberry.ID, role: str
    ) -> UserResult:
        ctx = info.context

        def _set(session) -> User:  # noqa: ANN001
            return _user(
                session,
                users.set_user_role(session, ctx.require_principal(), _int_id(id, "id"), role),
            )

        return await guarded(ctx, lambda: ctx.write(_set))  # type: ignore[return-value]

    @strawberry.mutation(
        description="Set a role's scope for an action on an entity kind; NONE removes it."
    )
    async def set_role_grant(
        self,
        info: Info[Context, None],
        role: str,
        entity: str,
        action: Action,
        scope: Scope,  # type: ignore[valid-type]
    ) -> RoleResult:
        ctx = info.context

        def _set(session) -> Role:  # noqa: ANN001
            row = users.set_grant(
                session,
                ctx.require_principal(),
                role=role,
                entity=entity,
                action=models.Action(action),
                scope=models.Scope(scope),
            )
            grants = [
                Grant(entity=g.entity, action=g.action, scope=g.scope)
                for g in users.grants_of(session, row.id)
            ]
            return Role(
                id=strawberry.ID(str(row.id)),
                name=row.name,
                description=row.description,
                grants=grants,
            )

        return await guarded(ctx, lambda: ctx.write(_set))  # type: ignore[return-value]

    @strawberry.mutation(description="Create a team.")
    async def create_team(self, info: Info[Context, None], name: str) -> TeamResult:
        ctx = info.context

        def _create(session) -> Team:  # noqa: ANN001
            row = users.create_team(session, ctx.require_principal(), name)
            return Team(id=strawberry.ID(str(row.id)), name=row.name)

        return await guarded(ctx, lambda: ctx.write(_create))  # type: ignore[return-value]

    @strawberry.mutation(description="Add a user to a team.")
    async def add_team_member(
        self, info: Info[Context, None], team_id: strawberry.ID, user_id: strawberry.ID
    ) -> TeamResult:
        ctx = info.context

        def _add(session) -> Team:  # noqa: ANN001
            users.add_team_member(
                session,
                ctx.require_principal(),
                _int_id(team_id, "teamId"),
                _int_id(user_id, "userId"),
            )
            row = session.get(models.Team, _int_id(team_id, "teamId"))
            return Team(id=strawberry.ID(str(row.id)), name=row.name)

        return await guarded(ctx, lambda: ctx.write(_add))  # type: ignore[return-value]
