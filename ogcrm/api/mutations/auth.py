"""Sign in, rotate tokens, sign out, change one's password."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from ogcrm import errors
from ogcrm.api.context import Context
from ogcrm.api.errors import AuthenticationError, RateLimited, UserErrors, guarded
from ogcrm.api.types.access import User
from ogcrm.auth import service, users


@strawberry.type(description="A signed-in session's tokens. Send `accessToken` as a Bearer token.")
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_at: dt.datetime
    user: User


@strawberry.type
class LogoutPayload:
    ok: bool


LoginResult = Annotated[AuthPayload | UserErrors, strawberry.union("LoginResult")]
RefreshResult = Annotated[AuthPayload | UserErrors, strawberry.union("RefreshResult")]
LogoutResult = Annotated[LogoutPayload | UserErrors, strawberry.union("LogoutResult")]
ChangePasswordResult = Annotated[
    LogoutPayload | UserErrors, strawberry.union("ChangePasswordResult")
]


def _payload(session: Session, pair: service.TokenPair) -> AuthPayload:
    user, role = users.user_with_role(session, pair.user_id)
    return AuthPayload(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_at=pair.expires_at,
        user=User.from_row(user, role),
    )


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Sign in with e-mail and password.")
    async def login(self, info: Info[Context, None], email: str, password: str) -> LoginResult:
        ctx = info.context
        user_agent = ctx.request.headers.get("user-agent")

        def _login(session: Session) -> AuthPayload | AuthenticationError | RateLimited:
            result = service.login(
                session,
                ctx.settings,
                ctx.throttle,
                email=email,
                password=password,
                client_addr=ctx.client_addr,
                user_agent=user_agent,
            )
            if isinstance(result, errors.RateLimited):
                return RateLimited(message=str(result), retry_after=result.retry_after)
            if isinstance(result, errors.AuthenticationFailed):
                return AuthenticationError(message=str(result))
            return _payload(session, result)

        return await ctx.write(_login)

    @strawberry.mutation(
        description="Exchange a refresh token for new tokens (the old one stops working)."
    )
    async def refresh(self, info: Info[Context, None], refresh_token: str) -> RefreshResult:
        ctx = info.context

        def _refresh(session: Session) -> AuthPayload | AuthenticationError:
            result = service.refresh(
                session,
                ctx.settings,
                token=refresh_token,
                client_addr=ctx.client_addr,
                throttle=ctx.throttle,
            )
            if isinstance(result, errors.AuthenticationFailed):
                return AuthenticationError(message=str(result))
            return _payload(session, result)

        return await ctx.write(_refresh)

    @strawberry.mutation(
        description="Sign out: this session's access and refresh tokens stop working."
    )
    async def logout(self, info: Info[Context, None]) -> LogoutResult:
        ctx = info.context

        async def _call() -> LogoutPayload:
            await ctx.write(service.logout, ctx.require_principal())
            return LogoutPayload(ok=True)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Change your password; every session of yours ends.")
    async def change_password(
        self, info: Info[Context, None], current_password: str, new_password: str
    ) -> ChangePasswordResult:
        ctx = info.context

        async def _call() -> LogoutPayload:
            refused = await ctx.write(
                service.change_password,
                ctx.require_principal(),
                ctx.throttle,
                current=current_password,
                new=new_password,
                client_addr=ctx.client_addr,
            )
            if refused is not None:  # its audit row is committed; now tell the client
                raise refused
            return LogoutPayload(ok=True)

        return await guarded(ctx, _call)
