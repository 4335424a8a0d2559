"""API tests share the root fixtures; helpers live in tests/support.py."""

from tests.support import LOGIN, gql, login, token_for

__all__ = ["LOGIN", "gql", "login", "token_for"]
