"""``schoolgate check``: is every configured system usable, before a sync finds out?

For each (school, system) four checks, in order, stopping at the first that fails:

1. **настройка** — the system's plugin is installed, its secrets read, its profile loads;
2. **адрес** — the base URL answers at all (one plain request, any HTTP status will do);
3. **вход** — the connector's own ``check()`` logs in and reads one small thing. A refused login
   is reported at once and never repeated (О7 locks an account after five failures); transient
   faults are retried at most ``CheckOptions.retries`` times within ``CheckOptions.budget``
   seconds, so an unreachable or hanging system costs bounded time;
4. **возможности** — what the connector reports it can read and write covers what the
   configuration enables (``entities``: ``pull``/``push``/``both``).

The outcome is one :class:`CheckResult` per system, shown as one Russian line (:meth:`line`) or
as JSON (:meth:`as_dict`). Messages carry the system, the URL without credentials and the reason:
never a secret, never personal data.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.base import Capabilities, Connector, ConnectorSettings
from connectors.transport import safe_url
from core.entities import Entity
from core.errors import (
    AuthError,
    ConfigError,
    ContractViolation,
    GatewayError,
    RemoteRejected,
    TransientError,
)
from core.redact import redact_text
from plugins import SystemPlugin
from plugins import load as load_plugin
from sync.jobs import SystemSetup
from sync.policy import EntityPolicy

#: entity names as an administrator reads them
ENTITY_NAMES: dict[Entity, str] = {
    Entity.SCHOOLS: "школы",
    Entity.YEARS: "учебные годы",
    Entity.PERIODS: "периоды",
    Entity.SUBJECTS: "предметы",
    Entity.TEACHERS: "учителя",
    Entity.CLASSES: "классы",
    Entity.PUPILS: "ученики",
    Entity.ENROLMENTS: "движение учеников",
    Entity.SUBGROUPS: "подгруппы",
    Entity.LESSONS: "уроки",
    Entity.MARKS: "отметки",
    Entity.FINAL_MARKS: "итоговые отметки",
    Entity.ATTENDANCE: "посещаемость",
}


class Stage(enum.StrEnum):
    CONFIG = "config"
    REACH = "reach"
    AUTH = "auth"
    CAPABILITIES = "capabilities"


STAGE_NAMES = {
    Stage.CONFIG: "настройка",
    Stage.REACH: "адрес",
    Stage.AUTH: "вход",
    Stage.CAPABILITIES: "возможности",
}


@dataclass(frozen=True, slots=True)
class Target:
    """One configured system of one school: its job setup, or why the configuration could not
    make one (a secret not set, …)."""

    school_id: str
    system: str
    base_url: str
    setup: SystemSetup | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class CheckOptions:
    #: seconds for one request (connect, read); the configured timeout when it is shorter
    timeout: float = 10.0
    #: retries of a transient fault (never of a refused login); the configured ones when fewer
    retries: int = 1
    #: seconds all retries of one request may take
    budget: float = 20.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    school_id: str
    system: str
    title: str
    url: str
    #: the stage that failed (``None``: every check passed)
    failed: Stage | None
    #: what the administrator reads: what was found, or what is wrong and what to do
    reason: str
    #: the underlying error, redacted (English, for a support request)
    detail: str | None = None
    seconds: float = 0.0
    #: what the configuration enables, as the system confirmed it
    pull: tuple[Entity, ...] = ()
    push: tuple[Entity, ...] = ()

    @property
    def ok(self) -> bool:
        return self.failed is None

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        where = f"{self.school_id} · {self.system}"
        if self.title:
            where += f" {self.title}"
        return f"{mark} {where} ({self.url}): {self.reason} [{_seconds(self.seconds)}]"

    def as_dict(self) -> dict[str, Any]:
        stages: dict[str, str] = {}
        for stage in Stage:
            if self.failed is None or list(Stage).index(stage) < list(Stage).index(self.failed):
                stages[stage.value] = "ok"
            elif stage is self.failed:
                stages[stage.value] = "failed"
            else:
                stages[stage.value] = "skipped"
        return {
            "school": self.school_id,
            "system": self.system,
            "title": self.title,
            "url": self.url,
            "ok": self.ok,
            "failed": None if self.failed is None else self.failed.value,
            "checks": stages,
            "reason": self.reason,
            "detail": self.detail,
            "seconds": round(self.seconds, 3),
            "pull": [e.value for e in self.pull],
            "push": [e.value for e in self.push],
        }


def _seconds(value: float) -> str:
    return f"{value:.2f} с".replace(".", ",")


def _names(entities: Iterable[Entity]) -> str:
    return ", ".join(ENTITY_NAMES.get(e, str(e)) for e in entities)


# -- pure: capabilities against the configuration --------------------------------------------


def enabled(
    policies: Mapping[Entity, EntityPolicy], caps: Capabilities
) -> tuple[tuple[Entity, ...], tuple[Entity, ...]]:
    """What a sync would read and write: every entity the system reads unless the configuration
    turns it off or makes it push-only, and the entities configured ``push`` or ``both``."""
    pull = tuple(
        e
        for e in Entity
        if e in caps.pull and policies.get(e, EntityPolicy()).direction in ("pull", "both")
    )
    push = tuple(e for e in Entity if e in policies and policies[e].direction in ("push", "both"))
    return pull, push


def capability_problems(policies: Mapping[Entity, EntityPolicy], caps: Capabilities) -> list[str]:
    """What the configuration asks of the system that the system says it cannot do."""
    cannot_read = [
        e
        for e, p in sorted(policies.items())
        if p.direction in ("pull", "both") and e not in caps.pull
    ]
    cannot_write = [
        e
        for e, p in sorted(policies.items())
        if p.direction in ("push", "both") and e not in caps.push
    ]
    problems = []
    if cannot_read:
        problems.append(f"система не отдаёт: {_names(cannot_read)}")
    if cannot_write:
        accepts = _names(sorted(caps.push)) or "ничего"
        problems.append(
            f"система не принимает записи: {_names(cannot_write)} (принимает: {accepts})"
        )
    return problems


# -- the checks -------------------------------------------------------------------------------

Probe = Callable[[str, float], None]


def probe(url: str, timeout: float) -> None:
    """One plain GET of ``url``: any HTTP answer means the address is reachable; an
    :class:`httpx.TransportError` says it is not."""
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        client.get(url).close()


def _unreachable(exc: httpx.TransportError, timeout: float) -> str:
    text = str(exc).casefold()
    if isinstance(exc, httpx.TimeoutException):
        return f"адрес недоступен: нет ответа за {timeout:g} с"
    if "refused" in text or "errno 111" in text:
        return "адрес недоступен: соединение отклонено (на этом порту никто не слушает)"
    if "name or service not known" in text or "nodename" in text or "getaddrinfo" in text:
        return "адрес недоступен: имя узла не найдено (DNS)"
    if "ssl" in text or "certificate" in text:
        return "адрес недоступен: ошибка TLS (сертификат или протокол)"
    return f"адрес недоступен: соединение не установлено ({type(exc).__name__})"


def _credential_names(system: str) -> str:
    return "client_id и client_secret" if system == "es2" else "логин и пароль"


def _login_failure(exc: GatewayError, system: str) -> str:
    status = getattr(exc, "status", None)
    http = f" (HTTP {status})" if isinstance(status, int) and status >= 400 else ""
    if isinstance(exc, AuthError):
        text = str(exc).casefold()
        what = (
            "учётная запись заблокирована после неудачных попыток входа — подождите и проверьте "
            "учётные данные"
            if "locked" in text or "заблокир" in text
            else f"учётные данные отклонены — проверьте {_credential_names(system)}"
        )
        lock = "; после 5 неудач О7 блокирует учётную запись" if system == "o7" else ""
        return f"вход не выполнен: {what}{http}; повторных попыток не было{lock}"
    if isinstance(exc, TransientError):
        return f"вход не проверен: система отвечает ошибкой{http} — попробуйте позже"
    if isinstance(exc, RemoteRejected):
        return f"система отказала в запросе{http} — проверьте код школы (remote_school)"
    if isinstance(exc, ContractViolation):
        return f"ответ не по контракту{http} — проверьте адрес (base_url) и вид системы"
    if isinstance(exc, ConfigError):
        return f"ошибка настройки: {redact_text(str(exc))}"
    return f"проверка не удалась ({type(exc).__name__})"


def _bounded(settings: ConnectorSettings, options: CheckOptions) -> ConnectorSettings:
    deadline = options.timeout * 3
    return dataclasses.replace(
        settings,
        timeout=min(settings.timeout, options.timeout),
        retries=min(settings.retries, options.retries),
        retry_budget=min(settings.retry_budget, options.budget),
        request_deadline=min(settings.request_deadline or deadline, deadline),
    )


def check_target(
    target: Target,
    options: CheckOptions = CheckOptions(),
    *,
    probe: Probe = probe,
    client: httpx.Client | None = None,
) -> CheckResult:
    """Check one configured system (see the module docstring)."""
    started = time.monotonic()
    url = safe_url(target.base_url)
    title = ""

    def result(
        failed: Stage | None, reason: str, detail: str | None = None, **kw: Any
    ) -> CheckResult:
        return CheckResult(
            target.school_id,
            target.system,
            title,
            url,
            failed,
            reason,
            None if detail is None else redact_text(detail),
            time.monotonic() - started,
            **kw,
        )

    setup = target.setup
    if setup is None:
        return result(Stage.CONFIG, f"ошибка настройки: {target.problem or 'нет настройки'}")
    try:
        plugin: SystemPlugin = load_plugin(setup.plugin_name)
        title = plugin.title
        profile = plugin.load_profile(setup.profile_override)
    except GatewayError as exc:
        return result(Stage.CONFIG, f"ошибка настройки: {redact_text(str(exc))}")

    try:
        probe(target.base_url, options.timeout)
    except httpx.TransportError as exc:
        return result(
            Stage.REACH, _unreachable(exc, options.timeout), str(exc) or type(exc).__name__
        )

    settings = dataclasses.replace(_bounded(setup.connector, options), profile=profile.settings)
    connector: Connector | None = None
    try:
        connector = plugin.build_connector(settings, client=client)
        connector.check()
        caps = connector.capabilities()
    except GatewayError as exc:
        stage = Stage.CONFIG if isinstance(exc, ConfigError) else Stage.AUTH
        return result(stage, _login_failure(exc, setup.plugin_name), str(exc))
    except Exception as exc:  # a plugin's bug must not hide the other systems' lines
        return result(
            Stage.AUTH,
            f"проверка не удалась: непредвиденная ошибка ({type(exc).__name__})",
            str(exc),
        )
    finally:
        if connector is not None:
            connector.close()

    problems = capability_problems(setup.policies, caps)
    if problems:
        return result(
            Stage.CAPABILITIES,
            "адрес доступен, вход принят, но настройка просит невозможного: " + "; ".join(problems),
        )
    pull, push = enabled(setup.policies, caps)
    reads = f"чтение: {_names(pull)}" if pull else "чтение выключено"
    writes = f"запись: {_names(push)}" if push else "без записи"
    return result(
        None,
        f"адрес доступен, вход принят, возможности как в настройке ({reads}; {writes})",
        pull=pull,
        push=push,
    )


def check_all(
    targets: Sequence[Target], options: CheckOptions = CheckOptions(), *, workers: int = 4
) -> list[CheckResult]:
    """Every target checked (``workers`` at a time), results in the order of ``targets``."""
    if workers <= 1 or len(targets) <= 1:
        return [check_target(t, options) for t in targets]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check") as pool:
        return list(pool.map(lambda t: check_target(t, options), targets))
