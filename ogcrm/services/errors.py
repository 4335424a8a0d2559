"""Domain errors that services raise and every front end (GraphQL, CLI) reports as-is."""

from __future__ import annotations


class DomainError(Exception):
    """An expected failure with a message meant for the user."""


class InvalidInput(DomainError):
    """An argument a user supplied is unusable; ``field`` names it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
