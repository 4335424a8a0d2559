"""What admins do: users, roles' grants, teams."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.orm import Session
from strawberry import relay
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.errors import UserErrors, guarded
from ogcrm.api.ids import local_id, user_pk
from ogcrm.api.types.access import Role, User
from ogcrm.auth import users
from ogcrm.db import models

UserResult = Annotated[User | UserErrors, strawberry.union("UserResult")]
RoleResult = Annotated[Role | UserErrors, strawberry.union("RoleResult")]


@strawberry.type
class Team:
    id: relay.GlobalID
    name: str

    @classmethod
    def from_row(cls, row: models.Team) -> Team:
        return cls(id=relay.GlobalID("Team", str(row.id)), name=row.name)


TeamResult = Annotated[Team | UserErrors, strawberry.union("TeamResult")]


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    role: str
    password: str


def _user(session: Session, row: models.User) -> User:
    return User.from_row(row, users.role_name(session, row))


@strawberry.type
class AdminMutations:
    @strawberry.mutation(description="Create a user (admins).")
    async def create_user(self, info: Info[Context, None], input: CreateUserInput) -> UserResult:
        ctx = info.context

        def _create(session: Session) -> User:
            row = users.create_user(
                session,
                email=input.email,
                name=input.name,
                role=input.role,
                password=input.password,
                principal=ctx.require_principal(),
            )
            return _user(session, row)

        return await guarded(ctx, lambda: ctx.write(_create))

    @strawberry.mutation(
        description="Enable or disable a user; disabling signs them out everywhere."
    )
    async def set_user_active(
        self, info: Info[Context, None], id: relay.GlobalID, active: bool
    ) -> UserResult:
        ctx = info.context

        def _set(session: Session) -> User:
            principal = ctx.require_principal()
            return _user(
                session, users.set_user_active(session, principal, user_pk(id, "id"), active)
            )

        return await guarded(ctx, lambda: ctx.write(_set))

    @strawberry.mutation(
        description="Sign a user out everywhere (every token they hold stops working)."
    )
    async def revoke_user_tokens(self, info: Info[Context, None], id: relay.GlobalID) -> UserResult:
        ctx = info.context

        def _revoke(session: Session) -> User:
            principal = ctx.require_principal()
            return _user(session, users.revoke_user_tokens(session, principal, user_pk(id, "id")))

        return await guarded(ctx, lambda: ctx.write(_revoke))

    @strawberry.mutation(description="Give a user another role.")
    async def set_user_role(
        self, info: Info[Context, None], id: relay.GlobalID, role: str
    ) -> UserResult:
        ctx = info.context

        def _set(session: Session) -> User:
            principal = ctx.require_principal()
            return _user(session, users.set_user_role(session, principal, user_pk(id, "id"), role))

        return await guarded(ctx, lambda: ctx.write(_set))

    @strawberry.mutation(
        description="Set a role's scope for an action on an entity kind; NONE removes it."
    )
    async def set_role_grant(
        self,
        info: Info[Context, None],
        role: str,
        entity: str,
        action: models.Action,
        scope: models.Scope,
    ) -> RoleResult:
        ctx = info.context

        def _set(session: Session) -> Role:
            row = users.set_grant(
                session,
                ctx.require_principal(),
                role=role,
                entity=entity,
                action=models.Action(action),
                scope=models.Scope(scope),
            )
            return Role.from_row(row, users.grants_of(session, row.id))

        return await guarded(ctx, lambda: ctx.write(_set))

    @strawberry.mutation(description="Create a team.")
    async def create_team(self, info: Info[Context, None], name: str) -> TeamResult:
        ctx = info.context

        def _create(session: Session) -> Team:
            return Team.from_row(users.create_team(session, ctx.require_principal(), name))

        return await guarded(ctx, lambda: ctx.write(_create))

    @strawberry.mutation(description="Add a user to a team.")
    async def add_team_member(
        self, info: Info[Context, None], team_id: relay.GlobalID, user_id: relay.GlobalID
    ) -> TeamResult:
        ctx = info.context

        def _add(session: Session) -> Team:
            team = users.add_team_member(
                session,
                ctx.require_principal(),
                local_id(team_id, "Team", field="teamId"),
                user_pk(user_id, "userId"),
            )
            return Team.from_row(team)

        return await guarded(ctx, lambda: ctx.write(_add))
