"""Refusals on the plain-HTTP routes, in GraphQL's response shape so a client parses one
format whichever route it called."""

from __future__ import annotations

from starlette.responses import JSONResponse

from ogcrm.api.errors import token_code
from ogcrm.errors import AuthenticationFailed


def refusal(status: int, message: str, **extensions: str | None) -> JSONResponse:
    """``{"data": null, "errors": [{message, extensions}]}`` with ``status``."""
    return JSONResponse(
        {
            "data": None,
            "errors": [
                {
                    "message": message,
                    "extensions": {k: v for k, v in extensions.items() if v is not None},
                }
            ],
        },
        status_code=status,
    )


def token_refused(exc: AuthenticationFailed) -> JSONResponse:
    """401 with a code a client can act on."""
    code = token_code(exc.reason)
    response = refusal(401, str(exc), code=code, reason=exc.reason)
    response.headers["WWW-Authenticate"] = (
        f'Bearer error="invalid_token", error_description="{code}"'
    )
    return response
