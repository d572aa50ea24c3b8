"""The console as an ASGI application: ``create_console(store, settings)`` gives a FastAPI app
of its own (HTML pages, no OpenAPI), and ``mount_console(app, …)`` mounts it at ``/console``
of the server ``schoolgate serve`` runs."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console import auth
from console.pages import admin, overview, queues, reports, signin
from console.settings import ConsoleSettings
from console.web import Console, Forbidden, NotFound, NotSignedIn, base_url, render
from core.errors import GatewayError, StoreError
from store import Store

PREFIX = "/console"
STATIC = Path(__file__).with_name("static")
#: every answer: no framing, no sniffing, scripts and styles only from the console itself
HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


def create_console(store: Store, settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    with store.begin() as tx:
        key = tx.console.key("cookies")
    app = FastAPI(title="schoolgate console", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.console = Console(store, settings, auth.Signer(key, settings))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (signin, overview, queues, reports, admin):
        app.include_router(module.router)
    _handlers(app)
    app.add_middleware(Secured)
    return app


def mount_console(app: FastAPI, store: Store, settings: ConsoleSettings | None = None) -> FastAPI:
    """Mount the console at ``/console`` of ``app`` (and send ``/`` there)."""
    console = create_console(store, settings)
    app.mount(PREFIX, console)

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse(PREFIX + "/", status_code=307)

    return console


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if request.method != "GET":
            return render(request, None, "error.html.j2", 403, message="Войдите в консоль.")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"{base_url(request)}/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, None, "error.html.j2", 403, message=exc.message)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return render(request, None, "error.html.j2", 404, message=exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "Страница не найдена.", 405: "Так эту страницу не открывают."}.get(
            exc.status_code, "Запрос не выполнен."
        )
        return render(request, None, "error.html.j2", exc.status_code, message=message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return render(request, None, "error.html.j2", 404, message="Страница не найдена.")

    @app.exception_handler(StoreError)
    async def store_down(request: Request, exc: StoreError) -> Response:
        return render(
            request, None, "error.html.j2", 503,
            message="Хранилище шлюза не отвечает. Повторите через минуту.",
        )  # fmt: skip

    @app.exception_handler(GatewayError)
    async def gateway(request: Request, exc: GatewayError) -> Response:
        return render(request, None, "error.html.j2", 409, message=str(exc))


class Secured:
    """Adds the security headers to every answer and keeps pages out of caches."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/") or "/static/" in scope["path"]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, sending)
