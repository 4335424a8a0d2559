"""Domain errors that services raise and every front end (GraphQL, CLI) reports as-is."""

from __future__ import annotations


class DomainError(Exception):
    """An expected failure with a message meant for the user."""


class InvalidInput(DomainError):
    """An argument a user supplied is unusable; ``field`` names it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(InvalidInput):
    """The record is not in a state that allows this (approve a rejected dataset, revert
    one never merged, approve twice); ``state`` names the state it is in."""

    def __init__(self, message: str, *, state: str | None = None) -> None:
        super().__init__(message)
        self.state = state


class NotFound(DomainError):
    """The record does not exist, or is outside the caller's scope (indistinguishable)."""


class PermissionDenied(DomainError):
    """The caller's role does not allow this action on this record."""


class AuthenticationFailed(DomainError):
    """A token or credentials were refused; ``reason`` is a stable code for logs and audit."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class RateLimited(DomainError):
    """Too many attempts; ``retry_after`` seconds until the next one is accepted."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
