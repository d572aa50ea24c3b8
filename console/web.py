"""What every page shares: the request's signed-in session, templates, the CSRF check on every
POST, flash messages after a decision, the answers for «sign in first» and «not allowed»."""

from __future__ import annotations

import datetime as dt
import functools
import urllib.parse
import zoneinfo
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from console import auth
from console.roles import ROLE_TITLES, Action, Role, may, scope, sees
from console.settings import ConsoleSettings
from reports import text
from store import Paging, Store, Tx
from store.console import Session


class NotSignedIn(Exception):
    """No live session: the page sends the browser to the sign-in form."""


class Forbidden(Exception):
    """The user's role or schools do not allow it."""

    def __init__(self, message: str = "Недостаточно прав для этого действия.") -> None:
        super().__init__(message)
        self.message = message


class NotFound(Exception):
    def __init__(self, message: str = "Страница не найдена.") -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Console:
    """The console's state on the app (``app.state.console``)."""

    store: Store
    settings: ConsoleSettings
    signer: auth.Signer


def console_of(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def address(request: Request) -> str | None:
    return request.client.host if request.client else None


def current(request: Request) -> Session:
    """The signed-in session (a dependency of every page but the sign-in form)."""
    con = console_of(request)
    token = con.signer.read_session(request.cookies.get(auth.SESSION_COOKIE))
    session = auth.session_of(con.store, token)
    if session is None:
        raise NotSignedIn
    request.state.token = token
    return session


def require(session: Session, action: Action, school_id: str | None = None) -> None:
    if not may(session.user, action):
        raise Forbidden()
    if school_id is not None and not sees(session.user, school_id):
        raise Forbidden("Эта школа вам не доступна.")


async def form_of(request: Request) -> dict[str, str]:
    """A POSTed form (application/x-www-form-urlencoded), at most 64 KB; one value per name."""
    body = await request.body()
    if len(body) > 65536:
        raise Forbidden("Слишком большая форма.")
    parsed = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def check_csrf(request: Request, session: Session, form: dict[str, str], action: str) -> None:
    """Every POST carries the session's own CSRF token; a missing or foreign one is refused and
    audited."""
    if not auth.same(form.get("csrf"), session.csrf):
        con = console_of(request)
        with con.store.begin() as tx:
            tx.console.audit(
                login=session.user.login,
                user_id=session.user.id,
                action=action,
                outcome="refused",
                detail="CSRF token missing or not this session's",
                address=address(request),
            )
        raise Forbidden("Форма устарела или отправлена не со страницы консоли. Обновите страницу.")


def refuse(request: Request, session: Session, action: str, target: str | None = None) -> None:
    """Audit an action the user's role does not allow, then refuse it."""
    con = console_of(request)
    with con.store.begin() as tx:
        tx.console.audit(
            login=session.user.login,
            user_id=session.user.id,
            action=action,
            target=target,
            outcome="refused",
            detail=f"role {session.user.role}",
            address=address(request),
        )
    raise Forbidden()


def base_url(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def redirect(request: Request, path: str, flash: tuple[str, str] | None = None) -> Response:
    resp = RedirectResponse(base_url(request) + path, status_code=303)
    if flash is not None:
        con = console_of(request)
        resp.set_cookie(
            auth.FLASH_COOKIE,
            con.signer.flash(*flash),
            max_age=300,
            httponly=True,
            secure=con.settings.cookie_secure,
            samesite="strict",
            path=base_url(request) or "/",
        )
    return resp


def tz_of(settings: ConsoleSettings, school_id: str | None) -> dt.tzinfo:
    name = settings.timezones.get(school_id or "", "Europe/Moscow")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Europe/Moscow")


def _moment(value: dt.datetime | None, tz: dt.tzinfo | None = None) -> str:
    if value is None:
        return "—"
    return value.astimezone(tz or zoneinfo.ZoneInfo("Europe/Moscow")).strftime("%d.%m.%Y %H:%M")


def _day(value: dt.date | str | None) -> str:
    return text.day(value) if value else "—"


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("console", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["moment"] = _moment
    env.filters["day"] = _day
    env.filters["num"] = lambda n: f"{n:,}".replace(",", "\u202f")
    env.globals["system_name"] = text.system_name
    env.globals["ENTITY"] = text.ENTITY
    env.globals["ENTITY_ONE"] = text.ENTITY_ONE
    env.globals["FIELD"] = text.FIELD
    env.globals["ROLE_TITLES"] = {r.value: t for r, t in ROLE_TITLES.items()}
    env.globals["RUN_STATUS"] = RUN_STATUS
    env.globals["QUEUE_STATUS"] = QUEUE_STATUS
    env.globals["KIND"] = KIND
    env.globals["COUNT"] = COUNT
    env.globals["HOLD_STATUS"] = HOLD_STATUS
    return env


RUN_STATUS = {
    "running": "идёт",
    "success": "успешно",
    "partial": "частично",
    "held": "задержана",
    "failed": "ошибка",
}
#: a run's counts per entity, in the order a page shows them
COUNT = {
    "created": "создано",
    "updated": "изменено",
    "deleted": "удалено",
    "unchanged": "без изменений",
    "conflicts": "конфликты",
    "rejected": "отклонено",
    "waiting": "ждут связанных",
    "review": "на проверке",
    "held": "задержано",
    "sent": "отправлено",
    "accepted": "принято",
    "duplicate": "уже были",
    "duplicates": "дубли",
    "awaiting": "ждут квитанции",
    "settled": "совпали без отправки",
    "failed": "без ответа",
}
HOLD_STATUS = {"waiting": "ждёт решения", "approved": "одобрено", "discarded": "отклонено"}
QUEUE_STATUS = {
    "open": "ждёт решения",
    "waiting": "ждёт связанную запись",
    "rejected": "отклонена",
    "noted": "к сведению",
    "resolved": "решено",
    "arrived": "пришла",
    "linked": "связано",
    "approved": "одобрено",
    "discarded": "отклонено",
}
KIND = {
    "both_changed": "изменена и здесь, и в системе",
    "corrected_mark": "исправлена отметка",
    "deleted_mark": "удалена отметка",
    "late_mark": "отметка выставлена поздно",
    "closed_period": "изменение в закрытом периоде",
    "period_closing": "изменение при закрытии периода",
    "outside_enrolment": "вне периода обучения ученика",
    "grade1_mark": "отметка в 1 классе",
    "grade1_homework": "домашнее задание в 1 классе",
    "unusual_mark": "необычная отметка",
    "invalid_record": "запись отклонена",
    "invalid_field": "поле не принято",
    "lookalike_letters": "похожие буквы исправлены",
    "waiting_reference": "ждёт связанную запись",
    "quarantined": "отложена",
    "push_rejected": "система отклонила отправку",
    "mass_deactivation": "массовое выбытие учеников",
    "empty_roster": "пустой список учеников",
}


def render(
    request: Request,
    session: Session | None,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    con = console_of(request)
    flash = con.signer.read_flash(request.cookies.get(auth.FLASH_COOKIE))
    user = session.user if session else None
    body = (
        environment()
        .get_template(template)
        .render(
            base=base_url(request),
            session=session,
            user=user,
            csrf=session.csrf if session else "",
            may_decide=bool(user and may(user, Action.DECIDE)),
            is_admin=bool(user and user.role == Role.ADMIN),
            flash=flash,
            path=request.url.path,
            tz=lambda school_id: tz_of(con.settings, school_id),
            configured_name=lambda school_id: con.settings.school_names.get(school_id, ""),
            query=request.url.query,
            **context,
        )
    )
    resp = HTMLResponse(body, status_code=status_code)
    if flash is not None:
        resp.delete_cookie(auth.FLASH_COOKIE, path=base_url(request) or "/")
    return resp


def scope_of(session: Session) -> Any:
    return scope(session.user)


def int_arg(value: str | None, default: int = 0, *, low: int = 0, high: int = 10**9) -> int:
    try:
        n = int(value) if value not in (None, "") else default
    except ValueError:
        return default
    return max(low, min(high, n))


@dataclass(frozen=True, slots=True)
class Pager:
    """A listing's page: the number asked (``?page=``; 1 when it is not a number) and the
    console's page size."""

    number: int
    size: int

    @classmethod
    def of(cls, con: Console, page: str) -> Pager:
        return cls(int_arg(page, 1, low=1), con.settings.page_size)

    @property
    def paging(self) -> Paging:
        return Paging(self.size, (self.number - 1) * self.size)

    def shown(self, total: int) -> dict[str, int]:
        """The template's ``page`` and ``pages`` for a listing of ``total`` rows."""
        return {"page": self.number, "pages": max(1, -(-total // self.size))}


def refuse_unless_deciding(request: Request, session: Session, action: str, target: str) -> None:
    """A decision (conflicts, holds, identities, periods) needs the deputy director's or the
    administrator's role: another is refused and audited."""
    if not may(session.user, Action.DECIDE):
        refuse(request, session, action, target)


async def decision_form(
    request: Request,
    session: Session,
    kind: str,
    decision: str,
    allowed: tuple[str, ...],
    target: str,
) -> tuple[dict[str, str], str]:
    """The checked form of a decision ``kind_decision`` on ``target`` (holds, identities,
    periods) and its action name: the CSRF token first (a refusal is audited), then a decision
    the route knows (else 404), then a role that may decide."""
    form = await form_of(request)
    action = f"{kind}_{decision}"
    check_csrf(request, session, form, action)
    if decision not in allowed:
        raise NotFound()
    refuse_unless_deciding(request, session, action, target)
    return form, action


def schools_of(con: Console, session: Session, tx: Tx) -> dict[str, str]:
    """The schools a page offers to choose, by id: the store's (with their names) and the
    configured ones the user sees (a store whose systems bring no school record, as the demo's,
    has none of its own)."""
    found = tx.queries.school_names(scope_of(session))
    configured = {k: v for k, v in con.settings.school_names.items() if sees(session.user, k)}
    return dict(sorted({**configured, **found}.items()))
