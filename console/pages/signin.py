"""Sign in and out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console import auth
from console.web import (
    Forbidden,
    address,
    base_url,
    check_csrf,
    console_of,
    current,
    form_of,
    redirect,
    render,
)
from store.console import Session

router = APIRouter()


def _safe_next(value: str | None, base: str) -> str:
    """Only a path of the console itself (never another site)."""
    if value and value.startswith(base + "/") and not value.startswith("//") and "\\" not in value:
        return value[len(base) :]
    return "/"


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    con = console_of(request)
    token = secrets.token_urlsafe(32)
    resp = render(
        request, None, "login.html.j2", login_csrf=token, next=next or "", error=None, login=""
    )
    resp.set_cookie(
        auth.LOGIN_CSRF_COOKIE,
        con.signer.login_token(token),
        max_age=3600,
        httponly=True,
        secure=con.settings.cookie_secure,
        samesite="strict",
        path=base_url(request) or "/",
    )
    return resp


@router.post("/login")
async def login(request: Request) -> Response:
    con = console_of(request)
    form = await form_of(request)
    expected = con.signer.read_login_token(request.cookies.get(auth.LOGIN_CSRF_COOKIE))
    if not auth.same(form.get("csrf"), expected):
        raise Forbidden("Форма входа устарела. Откройте страницу входа заново.")
    from starlette.concurrency import run_in_threadpool

    outcome = await run_in_threadpool(
        auth.sign_in,
        con.store,
        con.settings,
        form.get("login", ""),
        form.get("password", ""),
        address(request),
    )
    if isinstance(outcome, auth.Refused):
        return render(
            request,
            None,
            "login.html.j2",
            401 if outcome.reason == "failed" else 429,
            login_csrf=form.get("csrf", ""),
            next=form.get("next", ""),
            error=outcome.message,
            login=form.get("login", "")[:100],
        )
    resp = redirect(request, _safe_next(form.get("next"), base_url(request)))
    resp.set_cookie(
        auth.SESSION_COOKIE,
        con.signer.session(outcome.token),
        max_age=int(con.settings.session_ttl.total_seconds()),
        httponly=True,
        secure=con.settings.cookie_secure,
        samesite="strict",
        path=base_url(request) or "/",
    )
    resp.delete_cookie(auth.LOGIN_CSRF_COOKIE, path=base_url(request) or "/")
    return resp


@router.post("/logout")
async def logout(request: Request, session: Annotated[Session, Depends(current)]) -> Response:
    con = console_of(request)
    form = await form_of(request)
    check_csrf(request, session, form, "sign_out")
    auth.sign_out(con.store, request.state.token, session, address(request))
    resp = redirect(request, "/login")
    resp.delete_cookie(auth.SESSION_COOKIE, path=base_url(request) or "/")
    return resp
