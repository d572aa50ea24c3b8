"""The server: ``create_app(store, settings)`` gives the ASGI application (FastAPI) that
``schoolgate serve`` runs with uvicorn. Routes: the change feed, snapshots, the journal write
API, ``/health`` and ``/metrics``; the OpenAPI description at ``/openapi.json``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import feed, journal, ops, snapshots
from api.metrics import ApiMetrics
from api.problems import ApiProblem, ItemError
from api.ratelimit import RateLimiter
from api.responses import json_response
from api.settings import ApiSettings
from api.state import AppState
from core.errors import StoreError
from store import Store

DESCRIPTION = """\
The regional feed of one gateway: every applied change of the journal store in order (a
cursor never skips a change), snapshots to start from, and the local journal's write API.
Authenticate with `Authorization: Bearer <token>` (`schoolgate tokens create`). A token sees
only its schools; birth dates and СНИЛС only with the `personal` scope; a pupil's token only
that pupil's marks, attendance and homework.
"""


def create_app(store: Store, settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    threads = settings.threads

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the store's work runs on a few threads: each keeps a warm pooled connection, and
        # requests beyond them wait their turn instead of fighting over the GIL
        to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(
        title="schoolgate feed API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(known_query)],
    )
    app.state.schoolgate = AppState(store, settings, RateLimiter(), ApiMetrics(store))
    app.include_router(feed.router(settings))
    app.include_router(snapshots.router(settings))
    app.include_router(journal.router(settings))
    app.include_router(ops.router())
    _handlers(app)
    app.add_middleware(Measured, metrics=app.state.schoolgate.metrics)
    return app


def known_query(request: Request) -> None:
    """Refuse query parameters an operation does not take (a typo such as ``limt=`` would
    otherwise be ignored silently): the names come from the OpenAPI description itself."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    names = _query_names(request.app).get((getattr(route, "path", ""), request.method.lower()))
    unknown = sorted(set(request.query_params) - (names or set()))
    if unknown:
        shown = ", ".join(repr(u[:40]) for u in unknown[:5])
        raise ApiProblem(422, "invalid_request", f"unknown query parameters: {shown}")


def _query_names(app: FastAPI) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] | None = getattr(app.state, "query_names", None)
    if found is None:
        found = {
            (path, method): {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            for path, ops in app.openapi()["paths"].items()
            for method, op in ops.items()
        }
        app.state.query_names = found
    return found


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def problem(request: Request, exc: ApiProblem) -> Response:
        return json_response(exc.body(), exc.status, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return json_response(_validation(exc.errors()).body(), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = {"error": code, "message": str(exc.detail)}
        return json_response(body, exc.status_code, exc.headers)

    @app.exception_handler(StoreError)
    async def store_down(request: Request, exc: StoreError) -> Response:
        body = {"error": "store_unavailable", "message": "the store did not answer"}
        return json_response(body, 503, {"Retry-After": "5"})


def _validation(errors: Any) -> ApiProblem:
    """A request outside its schema: body items named by index, field and rule; anything else
    by where it is. Never the values sent."""
    items: list[ItemError] = []
    where: list[str] = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        rule = str(err.get("type", "invalid"))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if len(loc) >= 3 and loc[:2] == ["body", "items"] and loc[2].isdigit():
            field = loc[3] if len(loc) > 3 else None
            items.append(ItemError(int(loc[2]), field, rule, msg))
        else:
            where.append(f"{'.'.join(loc) or 'request'}: {msg}")
    message = "; ".join(where[:5]) or f"{len(items)} items outside their schema"
    return ApiProblem(422, "invalid_request", message, items=items[:100])


class Measured:
    """Counts and times every answer (a plain ASGI middleware: the body passes through untouched,
    not copied through a stream as starlette's ``BaseHTTPMiddleware`` would)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(name, scope["method"], str(status[0])).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - t0)
