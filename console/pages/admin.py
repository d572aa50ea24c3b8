"""Administration: users (create, disable, enable, new password), the console's audit, backups
(a seam: :data:`console.seams.Backups`). Users and backups are the administrator's alone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from console import users as user_ops
from console.roles import ROLE_TITLES, Action, Role, may
from console.web import (
    Pager,
    check_csrf,
    console_of,
    current,
    form_of,
    redirect,
    refuse,
    render,
    require,
    scope_of,
)
from core.errors import GatewayError, StoreError
from store.console import Session
from store.queries import AuditFilter

router = APIRouter()
ACTIONS = {
    "sign_in": "вход",
    "sign_out": "выход",
    "conflict_resolve": "решение конфликта",
    "hold_approve": "одобрение загрузки",
    "hold_discard": "отказ от загрузки",
    "identity_link": "связь личности",
    "identity_reject": "личности раздельно",
    "period_close": "закрытие периода",
    "period_reopen": "открытие периода",
    "user_create": "новый пользователь",
    "user_disable": "пользователь отключён",
    "user_enable": "пользователь включён",
    "user_reset_password": "новый пароль",
}
OUTCOMES = {"ok": "выполнено", "failed": "ошибка", "locked": "заблокировано", "refused": "отказано"}


@router.get("/users")
def users(request: Request, session: Annotated[Session, Depends(current)]) -> Response:
    require(session, Action.ADMINISTER)
    con = console_of(request)
    with con.store.read() as tx:
        found = tx.console.users()
        schools = tx.queries.school_names()
    return render(
        request, session, "users.html.j2", users=found, schools=schools,
        roles={r.value: t for r, t in ROLE_TITLES.items()}, secret=None,
    )  # fmt: skip


@router.post("/users")
async def create_user(request: Request, session: Annotated[Session, Depends(current)]) -> Response:
    form = await form_of(request)
    check_csrf(request, session, form, "user_create")
    if not may(session.user, Action.ADMINISTER):
        refuse(request, session, "user_create", form.get("login", "")[:100])
    con = console_of(request)
    try:
        user, secret = await run_in_threadpool(
            lambda: user_ops.create_user(
                con.store,
                login=form.get("login", ""),
                name=form.get("name", ""),
                role=form.get("role", ""),
                schools=form.get("schools", "").split(","),
                by=session.user.login,
            )
        )
    except (GatewayError, StoreError) as exc:
        return redirect(request, "/users", ("error", f"Пользователь не создан: {exc}"))
    return redirect(
        request,
        "/users",
        ("secret", f"Пользователь {user.login} создан. Пароль (показан один раз): {secret}"),
    )


@router.post("/users/{login}/{what}")
async def change_user(
    request: Request, session: Annotated[Session, Depends(current)], login: str, what: str
) -> Response:
    form = await form_of(request)
    action = {"disable": "user_disable", "enable": "user_enable", "reset": "user_reset_password"}
    check_csrf(request, session, form, action.get(what, "user_change"))
    if not may(session.user, Action.ADMINISTER):
        refuse(request, session, action.get(what, "user_change"), login)
    con = console_of(request)
    try:
        if what == "reset":
            _, secret = await run_in_threadpool(
                lambda: user_ops.reset_password(con.store, login, by=session.user.login)
            )
            return redirect(
                request,
                "/users",
                ("secret", f"Новый пароль {login} (показан один раз): {secret}"),
            )
        if what in ("disable", "enable"):
            if login == session.user.login and what == "disable":
                return redirect(request, "/users", ("error", "Себя отключить нельзя."))
            await run_in_threadpool(
                lambda: user_ops.disable_user(
                    con.store, login, by=session.user.login, enable=what == "enable"
                )
            )
            said = "отключён" if what == "disable" else "включён"
            return redirect(request, "/users", ("ok", f"Пользователь {login} {said}."))
    except (GatewayError, StoreError) as exc:
        return redirect(request, "/users", ("error", f"Не выполнено: {exc}"))
    return redirect(request, "/users")


@router.get("/audit")
def audit(
    request: Request,
    session: Annotated[Session, Depends(current)],
    login: str = "",
    action: str = "",
    page: str = "1",
) -> Response:
    if session.user.role == Role.DIRECTOR:
        require(session, Action.DECIDE)
    con = console_of(request)
    pager = Pager.of(con, page)
    where = AuditFilter(scope_of(session), login or None, action or None)
    with con.store.read() as tx:
        found = tx.queries.console_audit(where, pager.paging)
    return render(
        request, session, "audit.html.j2", entries=found, actions=ACTIONS, outcomes=OUTCOMES,
        login=login, action=action, **pager.shown(found.total),
    )  # fmt: skip


@router.get("/backups")
def backups(request: Request, session: Annotated[Session, Depends(current)]) -> Response:
    require(session, Action.ADMINISTER)
    con = console_of(request)
    found = con.settings.backups() if con.settings.backups is not None else None
    return render(request, session, "backups.html.j2", backups=found)
