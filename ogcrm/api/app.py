"""The Starlette application: ``/graphql`` (queries, mutations, subscriptions) and ``/healthz``."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from ogcrm import events
from ogcrm.api.authentication import authenticate
from ogcrm.api.context import Context
from ogcrm.api.exports import ExportEndpoint
from ogcrm.api.graphiql import STATIC_PATH, graphiql_html, static_assets
from ogcrm.api.health import check_health
from ogcrm.api.http import refusal, token_refused
from ogcrm.api.limits import BodySizeLimit
from ogcrm.api.loaders import Loaders
from ogcrm.api.schema import build_schema
from ogcrm.api.upload import handle_upload, is_multipart
from ogcrm.auth.throttle import LoginThrottle
from ogcrm.config import Settings
from ogcrm.db.session import Database
from ogcrm.errors import AuthenticationFailed
from ogcrm.events import build_bus
from ogcrm.jobs import queue
from ogcrm.jobs.broker import InProcessWorker
from ogcrm.jobs.reconciler import Reconciler
from ogcrm.jobs.runtime import JobRuntime
from ogcrm.worker import build_broker

log = logging.getLogger(__name__)

#: GraphQL requests are small; uploads (multipart) have their own cap, OGCRM_MAX_UPLOAD_BYTES.
MAX_BODY_BYTES = 1_000_000


def _holds_nul(value: object) -> bool:
    """Whether any string in a decoded JSON value holds a NUL (PostgreSQL refuses to
    store one; SQLite would): walked without recursion, whatever the nesting."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app with ogcrm's context and hardened transport defaults."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        throttle: LoginThrottle,
        bus: events.EventBus,
    ) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            # Only the maintained protocol: the legacy one once skipped connection_init
            # (CVE-2026-35526).
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=dt.timedelta(seconds=10),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            # browsers send Origin on websockets too; the same list as CORS
            allowed_origins=settings.cors_origin_list,
        )
        self.settings = settings
        self.db = db
        self.throttle = throttle
        self.bus = bus

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # multipart is for uploadDataset only, handled by ogcrm's streaming parser
        if is_multipart(scope):
            await handle_upload(self, scope, receive, send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        response: Response
        try:
            response = await self.run(request)
        except AuthenticationFailed as exc:
            response = token_refused(exc)
        except HTTPException as exc:
            # GraphQL-shaped, like every other refusal, so a client parses one format
            response = refusal(exc.status_code, exc.reason, code="BAD_REQUEST")
        await response(scope, receive, send)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry's run; then the request's read audit is written and its database
        connection given back, before the response leaves."""
        try:
            response = await super().run(request, context, root_value)
            ctx = getattr(request.state, "ogcrm_context", None)
            if isinstance(ctx, Context):
                await ctx.finish()
            return response
        finally:
            ctx = getattr(request.state, "ogcrm_context", None)
            if isinstance(ctx, Context):
                await ctx.close()

    def encode_json(self, data: object) -> str:
        """Responses and websocket messages, by orjson (a 50-account page in 0.02 ms, 0.38
        with json). Text, not bytes: graphql-transport-ws messages are text frames."""
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        """The request body (or a GET parameter) as JSON, or a 400 saying what is wrong
        with it: not UTF-8, nested past what the parser recurses through, or not an
        object (`null`, `"x"`, `123` were 500s)."""
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError as exc:
            raise HTTPException(400, f"the body is not UTF-8 (byte {exc.start})") from None
        try:
            value = json.loads(text)
        except RecursionError:
            raise HTTPException(400, "the body nests too deeply") from None
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, 'the body must be a JSON object: {"query": ...}')
        if _holds_nul(value):
            raise HTTPException(400, "text may not contain NUL characters")
        return value

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(graphiql_html())

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        ctx = Context(
            settings=self.settings,
            db=self.db,
            throttle=self.throttle,
            request=request,
            response=response,
            bus=self.bus,
        )
        ctx.loaders = Loaders(ctx)
        if isinstance(request, Request):
            request.state.ogcrm_context = ctx
            # a refused token propagates to __call__, which answers 401 in GraphQL's shape
            ctx.principal = await authenticate(ctx, request.headers.get("authorization"))
        return ctx

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Subscriptions are per user: ``connection_init`` must carry a valid access token
        (``{"authorization": "Bearer <token>"}``), otherwise the socket closes with 4403."""
        params = context.connection_params or {}
        value = params.get("authorization") or params.get("Authorization")
        context.authorization = value
        try:
            context.principal = await authenticate(context, value)
        except AuthenticationFailed as exc:
            raise ConnectionRejectionError({"reason": str(exc)}) from None
        if context.principal is None:
            raise ConnectionRejectionError({"reason": "connection_init must carry an access token"})
        return UNSET


def create_app(
    settings: Settings, *, db: Database | None = None, freeze_after_start: bool = False
) -> Starlette:
    """Build the app. ``db`` may be passed to share an engine (tests); otherwise one is made.
    ``freeze_after_start`` is for a server process that runs one app for its life
    (``gc.freeze`` after start-up), not for tests that build many.

    On the embedded set-up (no Redis) the app also runs the job worker in-process for its
    lifetime.
    """
    settings = settings.with_secret_key()
    database = db or Database(settings, application_name="ogcrm-api")
    bus = build_bus(settings)
    events.bind(database.info, bus)  # what requests and in-process jobs commit is announced
    # in-process jobs share the API's engine and bus
    broker = build_broker(settings, JobRuntime(database, settings.data_dir, bus, settings))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # embedded set-up: the jobs run here, and since the in-process queue starts
        # empty, whatever it held before a restart is re-sent at once
        background: list[InProcessWorker | Reconciler] = (
            []
            if settings.uses_redis
            else [
                InProcessWorker(broker, threads=settings.worker_threads),
                Reconciler(
                    database,
                    broker,
                    every=settings.reconcile_every,
                    lease=dt.timedelta(seconds=settings.job_lease),
                    first_lease=dt.timedelta(0),
                ),
            ]
        )
        queue.bind(database, broker)  # the jobs this app's requests call for go there
        for part in background:
            part.start()
        if freeze_after_start:
            # What start-up made (schema, modules, pools) lives as long as the process:
            # moved out of the collector's sight, full collections stop re-walking it,
            # which measured as every 7th-8th request paying ~125 ms (the p95 tail).
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            for part in reversed(background):
                part.stop()
            queue.bind(database, None)
            if db is None:
                database.dispose()

    def healthz(request: Request) -> JSONResponse:
        health = check_health(database, broker)
        return JSONResponse(health.as_dict(), status_code=200 if health.ok else 503)

    throttle = LoginThrottle(settings)
    graphql_app = GraphQLApp(settings, database, throttle, bus)
    export = ExportEndpoint(Context, settings=settings, db=database, throttle=throttle, bus=bus)
    app = Starlette(
        debug=settings.debug,
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            Route("/exports/{kind}", export, methods=["GET"]),
            WebSocketRoute("/graphql", graphql_app),
            Mount(STATIC_PATH, static_assets()),
        ],
        middleware=[
            *(
                [
                    Middleware(
                        CORSMiddleware,
                        allow_origins=settings.cors_origin_list,
                        allow_methods=["GET", "POST"],
                        allow_headers=["authorization", "content-type"],
                        max_age=600,
                    )
                ]
                if settings.cors_origin_list
                else []
            ),
            Middleware(
                BodySizeLimit,
                max_bytes=MAX_BODY_BYTES,
                max_multipart_bytes=settings.max_upload_bytes,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.broker = broker
    app.state.bus = bus
    return app
