"""Typed errors that mutations return as members of their result unions.

Expected failures are data, not exceptions: a client switches on ``__typename``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import strawberry
from sqlalchemy.orm import Session

from ogcrm import errors
from ogcrm.auth import audit

if TYPE_CHECKING:
    from ogcrm.api.context import Context

T = TypeVar("T")


@strawberry.interface(description="A failure a client is expected to handle.")
class UserError:
    message: str


@strawberry.type(description="An argument is unusable; `field` names it.")
class ValidationError(UserError):
    field: str | None = None


@strawberry.type(description="The signed-in user's role does not allow this.")
class PermissionDenied(UserError):
    pass


@strawberry.type(description="No such record, or not one you may see.")
class NotFound(UserError):
    pass


@strawberry.type(
    description="The record is not in a state that allows this; `currentState` says which."
)
class Conflict(UserError):
    current_state: str | None = None


@strawberry.type(description="Credentials or token refused.")
class AuthenticationError(UserError):
    pass


@strawberry.type(description="Too many attempts; retry after `retryAfter` seconds.")
class RateLimited(UserError):
    retry_after: int


#: The one error union: every mutation result is ``Payload | UserErrors``, so a client
#: handles the same six failures everywhere.
UserErrors = (
    ValidationError | PermissionDenied | NotFound | Conflict | AuthenticationError | RateLimited
)


def to_user_error(exc: errors.DomainError) -> UserErrors:
    """Map a service's domain error to the GraphQL type clients see."""
    message = str(exc)
    if isinstance(exc, errors.Conflict):
        return Conflict(message=message, current_state=exc.state)
    if isinstance(exc, errors.InvalidInput):
        return ValidationError(message=message, field=exc.field)
    if isinstance(exc, errors.PermissionDenied):
        return PermissionDenied(message=message)
    if isinstance(exc, errors.NotFound):
        return NotFound(message=message)
    if isinstance(exc, errors.RateLimited):
        return RateLimited(message=message, retry_after=exc.retry_after)
    if isinstance(exc, errors.AuthenticationFailed):
        return AuthenticationError(message=message)
    return ValidationError(message=message)


async def guarded(ctx: Context, call: Callable[[], Awaitable[T]]) -> T | UserErrors:
    """Await ``call``; a domain error becomes its typed GraphQL error instead of raising.

    A refused write is rolled back with everything else the call did, so the refusal is
    audited afterwards in a transaction of its own.
    """
    try:
        return await call()
    except errors.PermissionDenied as exc:
        principal, message = ctx.principal, str(exc)

        def _audit(session: Session) -> None:
            audit.record(
                session,
                principal,
                "permission_denied",
                client_addr=ctx.client_addr,
                message=message,
            )

        await ctx.write(_audit)
        return to_user_error(exc)
    except errors.DomainError as exc:
        return to_user_error(exc)


#: What a client should do about a refused token, by the refusal's reason: an expired
#: access token is refreshed; a session that ended (signed out, revoked, disabled) or a
#: token that is not ours means signing in again.
TOKEN_EXPIRED, SESSION_ENDED, INVALID_TOKEN = "TOKEN_EXPIRED", "SESSION_ENDED", "INVALID_TOKEN"
_ENDED = {"revoked", "token_version", "unknown_session", "inactive", "anonymous"}


def token_code(reason: str) -> str:
    if reason == "expired":
        return TOKEN_EXPIRED
    return SESSION_ENDED if reason in _ENDED else INVALID_TOKEN


def error_extensions(exc: BaseException) -> dict[str, object] | None:
    """``extensions`` of a GraphQL error raised by a query: the same kinds the mutation
    union has, as a ``code`` (and the ``field`` of a validation error), so a client
    reads a failed query the way it reads a failed mutation."""
    if not isinstance(exc, errors.DomainError):
        return None
    typed = to_user_error(exc)
    out: dict[str, object] = {"code": type(typed).__name__}
    for name in ("field", "retry_after", "current_state"):
        value = getattr(typed, name, None)
        if value is not None:
            out["retryAfter" if name == "retry_after" else name] = value
    if isinstance(exc, errors.AuthenticationFailed):
        out["reason"] = exc.reason
        out["token"] = token_code(exc.reason)
    return out
