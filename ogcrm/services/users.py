"""Users: creation from the CLI (and later the admin API)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ogcrm.auth.passwords import check_password_policy, hash_password
from ogcrm.db.models import Role, User
from ogcrm.services.errors import InvalidInput

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if not _EMAIL.match(value):
        raise InvalidInput(f"{email!r} is not an e-mail address", field="email")
    return value


def create_user(session: Session, *, email: str, name: str, role: str, password: str) -> User:
    """Create an active user with an Argon2id password hash.

    Raises:
        InvalidInput: bad e-mail, empty name, unknown role, weak password, or the
            e-mail is already taken.
    """
    address = normalize_email(email)
    display = " ".join(name.split())
    if not display:
        raise InvalidInput("name must not be empty", field="name")
    role_row = session.scalar(select(Role).where(Role.name == role.strip().lower()))
    if role_row is None:
        known = ", ".join(session.scalars(select(Role.name).order_by(Role.name)))
        raise InvalidInput(f"unknown role {role!r} (known: {known})", field="role")
    if problem := check_password_policy(password):
        raise InvalidInput(problem, field="password")
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise InvalidInput(f"a user with e-mail {address} already exists", field="email")
    user = User(
        email=address, name=display, role_id=role_row.id, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user
