"""Business logic per domain area, usable without GraphQL.

Every function takes a :class:`sqlalchemy.orm.Session` first, may flush, never commits.
"""
