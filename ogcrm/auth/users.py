"""Users, roles and teams: what admins manage."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ogcrm.auth import audit, policy
from ogcrm.auth.passwords import check_password_policy, hash_password
from ogcrm.auth.principal import Principal, system_principal
from ogcrm.db.models import Action, Role, RolePermission, Scope, Team, User, team_membership
from ogcrm.db.types import in_values
from ogcrm.errors import InvalidInput, NotFound
from ogcrm.failpoints import failpoint

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    """Trimmed and lower-cased; refused unless it looks like ``local@domain.tld``."""
    value = email.strip().lower()
    if len(value) > 320:  # RFC 5321's limit, and the column's
        raise InvalidInput("an e-mail address is at most 320 characters", field="email")
    if not _EMAIL.match(value):
        raise InvalidInput(f"{email!r} is not an e-mail address", field="email")
    return value


def _role(session: Session, name: str) -> Role:
    role = session.scalar(select(Role).where(Role.name == name.strip().lower()))
    if role is None:
        known = ", ".join(session.scalars(select(Role.name).order_by(Role.name)))
        raise InvalidInput(f"unknown role {name!r} (known: {known})", field="role")
    return role


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    principal: Principal | None = None,
) -> User:
    """Create an active user with an Argon2id password hash.

    ``principal`` is the admin doing it; the CLI (someone with shell access to the
    server) acts as the system.

    Raises:
        InvalidInput: bad e-mail, empty name, unknown role, weak password, or the
            e-mail is already taken.
    """
    actor = principal or system_principal("cli")
    policy.require(actor, "user", Action.WRITE)
    address = normalize_email(email)
    display = " ".join(name.split())
    if not display:
        raise InvalidInput("name must not be empty", field="name")
    if len(display) > 200:
        raise InvalidInput("name is longer than 200 characters", field="name")
    role_row = _role(session, role)
    if problem := check_password_policy(password):
        raise InvalidInput(problem, field="password")
    taken = InvalidInput(f"a user with e-mail {address} already exists", field="email")
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise taken
    user = User(
        email=address, name=display, role_id=role_row.id, password_hash=hash_password(password)
    )
    failpoint("users.create")  # between the check and the insert (race tests)
    try:
        with session.begin_nested():  # the unique key decides a race the check lost
            session.add(user)
            session.flush()
    except IntegrityError:
        raise taken from None
    audit.record(
        session, actor, "user.create", entity="user", entity_id=user.id, role=role_row.name
    )
    return user


def bootstrap_admin(session: Session, *, email: str, name: str, password: str) -> User:
    """Create the first admin of a new installation; refused once any user exists.
    Two at once make one: PostgreSQL's table lock (SQLite's single writer) orders them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text('LOCK TABLE "user" IN SHARE ROW EXCLUSIVE MODE'))
    if session.scalar(select(func.count()).select_from(User)):
        raise InvalidInput(
            "this installation already has users; an admin creates more with `ogcrm user create`",
            field="email",
        )
    return create_user(session, email=email, name=name, role="admin", password=password)


def get_user(session: Session, principal: Principal, user_id: int) -> User:
    return policy.get_readable(session, "user", principal, user_id)  # type: ignore[no-any-return]


def list_users(session: Session, principal: Principal) -> Sequence[User]:
    return session.scalars(policy.readable(select(User).order_by(User.id), "user", principal)).all()


def set_user_active(session: Session, principal: Principal, user_id: int, active: bool) -> User:
    """Enable or disable a user; disabling ends every session at once."""
    from ogcrm.auth.service import revoke_all_sessions

    user = get_user(session, principal, user_id)
    policy.authorize_write(session, principal, "user", user)
    user.is_active = active
    if not active:
        revoke_all_sessions(session, user, reason="disabled")
    audit.record(
        session, principal, "user.set_active", entity="user", entity_id=user.id, active=active
    )
    return user


def revoke_user_tokens(session: Session, principal: Principal, user_id: int) -> User:
    """Sign a user out everywhere."""
    from ogcrm.auth.service import revoke_all_sessions

    user = get_user(session, principal, user_id)
    policy.authorize_write(session, principal, "user", user)
    revoke_all_sessions(session, user, reason="revoked_by_admin")
    audit.record(session, principal, "user.revoke_tokens", entity="user", entity_id=user.id)
    return user


def set_password(session: Session, principal: Principal, *, email: str, password: str) -> User:
    """Set a user's password on an admin's (or the command line's) word, for a forgotten
    one: no current password is asked, every session of the user ends, it is audited.

    Raises:
        NotFound: no such user. InvalidInput: the password fails the policy.
    """
    from ogcrm.auth.service import revoke_all_sessions

    address = normalize_email(email)
    user = session.scalar(select(User).where(User.email == address))
    if user is None:
        raise NotFound(f"no user {address}")
    policy.authorize_write(session, principal, "user", user)
    if problem := check_password_policy(password):
        raise InvalidInput(problem, field="password")
    user.password_hash = hash_password(password)
    revoke_all_sessions(session, user, reason="password_set")
    audit.record(session, principal, "user.password_set", entity="user", entity_id=user.id)
    return user


def set_user_role(session: Session, principal: Principal, user_id: int, role: str) -> User:
    user = get_user(session, principal, user_id)
    policy.authorize_write(session, principal, "user", user)
    user.role_id = _role(session, role).id
    audit.record(session, principal, "user.set_role", entity="user", entity_id=user.id, role=role)
    return user


def set_grant(
    session: Session, principal: Principal, *, role: str, entity: str, action: Action, scope: Scope
) -> Role:
    """Set one role's scope for an action on an entity kind (``none`` removes the grant)."""
    policy.require(principal, "role", Action.WRITE)
    if entity not in policy.ENTITY_KINDS:
        raise InvalidInput(f"unknown entity kind {entity!r}", field="entity")
    role_row = _role(session, role)
    session.execute(
        delete(RolePermission).where(
            RolePermission.role_id == role_row.id,
            RolePermission.entity == entity,
            RolePermission.action == action,
        )
    )
    if scope is not Scope.NONE:
        session.execute(
            insert(RolePermission).values(
                role_id=role_row.id, entity=entity, action=action, scope=scope
            )
        )
    audit.record(
        session,
        principal,
        "role.set_grant",
        entity="role",
        entity_id=role_row.id,
        kind=entity,
        granted_action=action.value,
        granted_scope=scope.value,
    )
    return role_row


def grants_of(session: Session, role_id: int) -> list[RolePermission]:
    return list(
        session.scalars(
            select(RolePermission)
            .where(RolePermission.role_id == role_id)
            .order_by(RolePermission.entity)
        )
    )


def list_roles(session: Session, principal: Principal) -> Sequence[Role]:
    return session.scalars(
        policy.readable(select(Role).order_by(Role.name), "role", principal)
    ).all()


def create_team(session: Session, principal: Principal, name: str) -> Team:
    policy.require(principal, "team", Action.WRITE)
    clean = " ".join(name.split())
    if not clean:
        raise InvalidInput("team name must not be empty", field="name")
    if len(clean) > 128:
        raise InvalidInput("team name is longer than 128 characters", field="name")
    taken = InvalidInput(f"a team named {clean!r} already exists", field="name")
    if session.scalar(select(Team.id).where(Team.name == clean)) is not None:
        raise taken
    team = Team(name=clean)
    failpoint("users.create")
    try:
        with session.begin_nested():
            session.add(team)
            session.flush()
    except IntegrityError:
        raise taken from None
    audit.record(session, principal, "team.create", entity="team", entity_id=team.id, name=clean)
    return team


def add_team_member(session: Session, principal: Principal, team_id: int, user_id: int) -> Team:
    """Put a user in a team (once: adding a member again changes nothing); the team."""
    policy.require(principal, "team", Action.WRITE)
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"team {team_id} not found")
    if session.get(User, user_id) is None:
        raise NotFound(f"user {user_id} not found")
    exists = session.scalar(
        select(team_membership.c.user_id).where(
            team_membership.c.team_id == team_id, team_membership.c.user_id == user_id
        )
    )
    if exists is None:
        session.execute(insert(team_membership).values(team_id=team_id, user_id=user_id))
    audit.record(
        session,
        principal,
        "team.add_member",
        entity="team",
        entity_id=team_id,
        user_id_added=user_id,
    )
    return team


def role_name(session: Session, user: User) -> str:
    """The name of a user's role (what the API shows as ``User.role``)."""
    name = session.scalar(select(Role.name).where(Role.id == user.role_id))
    assert name is not None  # role_id is a foreign key
    return name


def signed_in(session: Session, principal: Principal) -> tuple[User, str]:
    """The signed-in user and their role's name."""
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound("the signed-in user no longer exists")
    return user, role_name(session, user)


def user_with_role(session: Session, user_id: int) -> tuple[User, str]:
    """A user and their role's name, for a sign-in's answer (no scope: the caller just
    proved who they are)."""
    row = session.execute(
        select(User, Role.name).join(Role, Role.id == User.role_id).where(User.id == user_id)
    ).one()
    return row[0], row[1]


def users_with_roles(
    session: Session, principal: Principal, user_ids: Sequence[int] | None = None
) -> list[tuple[Any, str]]:
    """The users ``principal`` may see (of ``user_ids``, if given), each with their
    role's name: rows of id, email, name, is_active and last_login_at, for showing
    (never the password hash, which a profile has no use for)."""
    stmt = (
        select(User.id, User.email, User.name, User.is_active, User.last_login_at, Role.name)
        .join(Role, Role.id == User.role_id)
        .order_by(User.id)
    )
    if user_ids is not None:
        stmt = stmt.where(in_values(session, User.id, user_ids))
    rows = session.execute(policy.readable(stmt, "user", principal))
    return [(row, row[5]) for row in rows]


def roles_with_grants(
    session: Session, principal: Principal
) -> list[tuple[Role, list[RolePermission]]]:
    """The roles ``principal`` may see, each with its grants."""
    return [(r, grants_of(session, r.id)) for r in list_roles(session, principal)]


def display_names(session: Session, user_ids: Sequence[int]) -> dict[int, str]:
    """Users' display names by id: how a dataset or a rule set names who acted on it."""
    rows = session.execute(select(User.id, User.name).where(User.id.in_(list(user_ids))))
    return {i: n for i, n in rows}


def acting_as(session: Session, email: str) -> Principal:
    """The principal an active user's requests get, for a command run on their behalf
    (``ogcrm export --as``): their role's grants, so the command sees what they would."""
    address = normalize_email(email)
    user = session.scalar(select(User).where(User.email == address))
    if user is None or not user.is_active:
        raise NotFound(f"no active user {address}")
    grants = {
        (g.entity, g.action): g.scope
        for g in session.scalars(
            select(RolePermission).where(RolePermission.role_id == user.role_id)
        )
    }
    return Principal(
        user_id=user.id, role=role_name(session, user), grants=grants, email=user.email
    )
