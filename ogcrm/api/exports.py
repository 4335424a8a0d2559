"""``GET /exports/{kind}?format=csv|xlsx|jsonl&<filter>``: an export streamed over plain
HTTP with the bearer token, for any size.

The filter is checked, and the export audited, before the first byte: a bad value is a
400 naming its parameter, not a broken download. The rows are then written by a thread
of their own into a short queue the response drains, so a slow client holds the
database back (the queue fills and the writer waits) instead of the server buffering
the result; when the client goes away the writer stops at its next chunk.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import AsyncIterator

import anyio.to_thread
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from ogcrm import errors
from ogcrm.api.authentication import authenticate
from ogcrm.api.context import Context
from ogcrm.api.errors import error_extensions
from ogcrm.api.http import refusal, token_refused
from ogcrm.db.session import Database
from ogcrm.reports import exports, streams

log = logging.getLogger(__name__)

#: Chunks waiting for the client: what the server holds per export at most.
QUEUE_CHUNKS = 8
_DONE = object()

_STATUS = {"ValidationError": 400, "PermissionDenied": 403, "NotFound": 404}


def _refuse(exc: errors.DomainError) -> Response:
    extensions = error_extensions(exc) or {}
    code = str(extensions.get("code", "ValidationError"))
    field = extensions.get("field")
    return refusal(_STATUS.get(code, 400), str(exc), code=code, field=str(field) if field else None)


def _produce(
    db: Database,
    export: exports.Export,
    fmt: exports.Format,
    out: queue.Queue[object],
    stop: threading.Event,
) -> None:
    try:
        with db.read() as session:
            for chunk in streams.write(session, export, fmt):
                while not stop.is_set():
                    try:
                        out.put(chunk, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        out.put(_DONE)
    except Exception as exc:  # handed to the response, which ends the download broken
        log.exception("export of %s failed", export.kind)
        out.put(exc)


async def _drain(out: queue.Queue[object], stop: threading.Event) -> AsyncIterator[bytes]:
    try:
        while True:
            item = await anyio.to_thread.run_sync(out.get)
            if item is _DONE:
                return
            if isinstance(item, Exception):
                # the status line has gone: a truncated body is how HTTP says it failed
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        stop.set()


class ExportEndpoint:
    """The ASGI endpoint; ``context`` builds what :func:`authenticate` needs."""

    def __init__(self, context: type[Context], **context_args: object) -> None:
        self.context = context
        self.context_args = context_args

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.respond(Request(scope, receive))
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        ctx = self.context(request=request, **self.context_args)  # type: ignore[arg-type]
        try:
            principal = await authenticate(ctx, request.headers.get("authorization"))
        except errors.AuthenticationFailed as exc:
            return token_refused(exc)
        if principal is None:
            return token_refused(
                errors.AuthenticationFailed(
                    "send Authorization: Bearer <access token>", reason="anonymous"
                )
            )
        pairs: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            if key != "format":
                pairs.setdefault(key, []).append(value)
        try:
            kind = exports.parse_kind(request.path_params["kind"])
            fmt = exports.parse_format(request.query_params.get("format", "csv"))

            def start(session: Session) -> exports.Export:
                export = exports.plan(session, principal, kind, pairs)
                exports.record(session, principal, export, fmt, pairs)
                return export

            export = await ctx.write(start)
        except errors.DomainError as exc:
            return _refuse(exc)
        out: queue.Queue[object] = queue.Queue(maxsize=QUEUE_CHUNKS)
        stop = threading.Event()
        threading.Thread(
            target=_produce,
            args=(ctx.db, export, fmt, out, stop),
            name=f"export-{kind.value}",
            daemon=True,
        ).start()
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        return StreamingResponse(
            _drain(out, stop),
            media_type=streams.media_type(fmt),
            headers={
                "Content-Disposition": f'attachment; filename="{kind.value}-{stamp}.{fmt.value}"',
                "Cache-Control": "no-store",
            },
        )
