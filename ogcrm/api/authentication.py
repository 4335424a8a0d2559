"""Turning a bearer token (HTTP header or websocket ``connection_init``) into a principal."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from ogcrm.api.context import Context
from ogcrm.auth import audit, service
from ogcrm.auth.principal import Principal
from ogcrm.errors import AuthenticationFailed

log = logging.getLogger(__name__)


def bearer_token(value: object) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value (scheme case-insensitive)."""
    if not isinstance(value, str) or not value.strip():
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed(
            "Authorization must be 'Bearer <access token>'", reason="malformed"
        )
    return token.strip()


async def authenticate(ctx: Context, header_value: object) -> Principal | None:
    """The principal for ``header_value``, ``None`` when no token was sent.

    A refused token is audited (in its own transaction, since the request then fails)
    and logged with its reason before the error propagates: the first from each address
    each minute, within a global cap (:meth:`LoginThrottle.worth_recording`), since anyone
    can send bad tokens and the audit log is append-only.
    """
    try:
        token = bearer_token(header_value)
        if token is None:
            return None
        return await ctx.read(
            service.authenticate, ctx.settings, token, client_addr=ctx.client_addr
        )
    except AuthenticationFailed as exc:
        reason = exc.reason
        if ctx.throttle.worth_recording("token_refused", ctx.client_addr):
            log.warning("token refused from %s: %s", ctx.client_addr, reason)

            def _audit(session: Session) -> None:
                audit.record(
                    session, None, "token_refused", client_addr=ctx.client_addr, reason=reason
                )

            await ctx.write(_audit)
        raise
