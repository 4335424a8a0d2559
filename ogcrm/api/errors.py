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
