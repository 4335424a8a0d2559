"""Access tokens: short-lived JWTs with one pinned algorithm, and opaque refresh tokens.

Every way a token can be wrong has its own ``reason`` code, so logs and the audit trail
say what was attempted (``alg_none``, ``bad_signature``, ``expired``...), while clients
get one clear message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

import jwt

from ogcrm.errors import AuthenticationFailed

ALGORITHM = "HS256"
ISSUER = "ogcrm"
AUDIENCE = "ogcrm-api"
ACCESS_TYPE = "access"
REQUIRED_CLAIMS = ("exp", "iat", "nbf", "sub", "jti", "typ", "aud", "iss", "sid", "ver")


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: int
    token_version: int
    jti: str
    expires_at: dt.datetime


def issue_access_token(
    secret: str,
    *,
    user_id: int,
    session_id: int,
    token_version: int,
    ttl: dt.timedelta,
    now: dt.datetime | None = None,
) -> tuple[str, dt.datetime]:
    """Sign an access token; returns it with its expiry."""
    issued = now or dt.datetime.now(dt.UTC)
    expires = issued + ttl
    claims = {
        "sub": str(user_id),  # PyJWT >= 2.10 requires a string subject
        "sid": session_id,
        "ver": token_version,
        "typ": ACCESS_TYPE,
        "jti": uuid.uuid4().hex,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": issued,
        "nbf": issued,
        "exp": expires,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires


def _refuse(reason: str, detail: str) -> AuthenticationFailed:
    return AuthenticationFailed(f"invalid access token: {detail}", reason=reason)


def decode_access_token(secret: str, token: str) -> AccessClaims:
    """Verify signature, algorithm, time window, audience, issuer and type.

    Raises:
        AuthenticationFailed: with a ``reason`` naming the fault.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise _refuse("malformed", "not a JWT") from None
    alg = str(header.get("alg", ""))
    if alg.lower() == "none":
        raise _refuse("alg_none", "unsigned tokens are not accepted")
    if alg != ALGORITHM:
        raise _refuse("bad_algorithm", f"algorithm {alg!r} is not accepted")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError:
        raise _refuse("expired", "expired") from None
    except jwt.ImmatureSignatureError:
        raise _refuse("not_yet_valid", "not valid yet") from None
    except jwt.InvalidSignatureError:
        raise _refuse("bad_signature", "signature does not verify") from None
    except jwt.MissingRequiredClaimError as exc:
        raise _refuse("missing_claim", f"claim {exc.claim!r} is missing") from None
    except jwt.InvalidAudienceError:
        raise _refuse("wrong_audience", "wrong audience") from None
    except jwt.InvalidIssuerError:
        raise _refuse("wrong_issuer", "wrong issuer") from None
    except jwt.InvalidTokenError:
        raise _refuse("malformed", "malformed") from None
    if claims.get("typ") != ACCESS_TYPE:
        raise _refuse("wrong_type", "not an access token")
    try:
        return AccessClaims(
            user_id=int(claims["sub"]),
            session_id=int(claims["sid"]),
            token_version=int(claims["ver"]),
            jti=str(claims["jti"]),
            expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
        )
    except (TypeError, ValueError):
        raise _refuse("malformed", "malformed claims") from None


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque refresh token and the SHA-256 hex under which it is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
