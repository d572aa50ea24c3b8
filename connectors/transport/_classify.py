"""The shared classification table: an HTTP status or a transport failure → a :class:`Decision`.

:func:`classify` is pure. A system's own classification (an envelope, an RPC refusal) starts from
its answer and may decide otherwise; what every system shares is here, as data:

=====================================================  =================  ==================
what happened                                          action             retry_after
=====================================================  =================  ==================
2xx                                                    OK
3xx (redirects are never followed)                     CONTRACT
401                                                    REAUTH
403, 407                                               AUTH
408, 425                                               RETRY
429                                                    RATE_LIMITED       ``Retry-After``
other 4xx                                              REJECTED
5xx                                                    RETRY              ``Retry-After``
timeout, refused, reset (no answer)                    RETRY
the answer broke off; not complete by the deadline     RETRY
the body is over its size limit                        CONTRACT
JSON nested deeper than the bound                      CONTRACT
any other exception                                    CONTRACT
=====================================================  =================  ==================

A system adjusts rows with :meth:`StatusTable.but` (АСИОУ: a 401 is final, unknown statuses break
the contract; ES2: 410 is an expired cursor).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import httpx

from connectors.transport._actions import Action, Decision
from connectors.transport._faults import BodyTooLarge, BrokeOff, DeadlineExceeded, TooDeep
from connectors.transport._retry_after import parse_retry_after
from connectors.transport._urls import safe_url, where


@dataclass(frozen=True, slots=True)
class StatusTable:
    """HTTP status → action: exact statuses first, then by class (``status // 100``)."""

    exact: Mapping[int, Action] = field(default_factory=dict)
    by_class: Mapping[int, Action] = field(default_factory=dict)

    def action(self, status: int) -> Action:
        found = self.exact.get(status)
        if found is not None:
            return found
        return self.by_class.get(status // 100, Action.CONTRACT)

    def but(
        self,
        exact: Mapping[int, Action] | None = None,
        by_class: Mapping[int, Action] | None = None,
    ) -> StatusTable:
        """This table with some rows replaced."""
        return StatusTable(
            MappingProxyType({**self.exact, **(exact or {})}),
            MappingProxyType({**self.by_class, **(by_class or {})}),
        )


HTTP = StatusTable(
    exact=MappingProxyType(
        {
            401: Action.REAUTH,
            403: Action.AUTH,
            407: Action.AUTH,
            408: Action.RETRY,
            425: Action.RETRY,
            429: Action.RATE_LIMITED,
        }
    ),
    by_class=MappingProxyType(
        {2: Action.OK, 3: Action.CONTRACT, 4: Action.REJECTED, 5: Action.RETRY}
    ),
)

_RETRY_FAULTS = (DeadlineExceeded, BrokeOff)
_CONTRACT_FAULTS = (BodyTooLarge, TooDeep)


def classify(outcome: httpx.Response | BaseException, table: StatusTable = HTTP) -> Decision[Any]:
    """What to do about ``outcome``: see the table in the module docstring."""
    if isinstance(outcome, BaseException):
        return classify_exception(outcome)
    return classify_response(outcome, table)


def classify_response(response: httpx.Response, table: StatusTable = HTTP) -> Decision[Any]:
    status = response.status_code
    action = table.action(status)
    wait = None
    if action in (Action.RETRY, Action.RATE_LIMITED):
        wait = parse_retry_after(response.headers.get("Retry-After"))
    return Decision(action, _reason(action, response), status, wait, request_of(response))


def classify_exception(exc: BaseException) -> Decision[Any]:
    at = _request_where(exc)
    if isinstance(exc, _RETRY_FAULTS):
        return Decision(Action.RETRY, str(exc), where=at)
    if isinstance(exc, _CONTRACT_FAULTS):
        return Decision(Action.CONTRACT, str(exc), where=at)
    if isinstance(exc, httpx.TimeoutException):
        return Decision(Action.RETRY, f"no answer in time ({type(exc).__name__})", where=at)
    if isinstance(exc, httpx.TransportError):
        return Decision(Action.RETRY, f"connection failed ({type(exc).__name__})", where=at)
    return Decision(Action.CONTRACT, f"unexpected failure ({type(exc).__name__})", where=at)


def request_of(response: httpx.Response) -> str | None:
    """``"GET http://host/path"`` of the request ``response`` answers, if it has one."""
    try:
        request = response.request
    except RuntimeError:  # a response built by hand (tests) has no request
        return None
    return where(request.method, request.url)


def _request_where(exc: BaseException) -> str | None:
    if isinstance(exc, httpx.RequestError):
        try:
            return where(exc.request.method, exc.request.url)
        except RuntimeError:
            return None
    return None


def _html(response: httpx.Response) -> bool:
    return "html" in response.headers.get("Content-Type", "")


def _reason(action: Action, response: httpx.Response) -> str:
    status = response.status_code
    match action:
        case Action.OK:
            return "ok"
        case Action.RETRY if status >= 500:
            page = " with an HTML error page" if _html(response) else ""
            return f"server error HTTP {status}{page}"
        case Action.RETRY:
            return f"HTTP {status}: try again later"
        case Action.RATE_LIMITED:
            return f"rate limited (HTTP {status})"
        case Action.REAUTH:
            return f"HTTP {status}: the session or token was refused"
        case Action.AUTH:
            return f"HTTP {status}: credentials refused"
        case Action.REJECTED:
            return f"HTTP {status}: the request was refused"
        case Action.CURSOR_EXPIRED:
            return f"HTTP {status}: the cursor expired"
        case Action.CONTRACT if 300 <= status < 400:
            location = response.headers.get("Location")
            to = f" to {safe_url(location)}" if location else ""
            return f"unexpected redirect HTTP {status}{to}"
        case _:
            return f"unexpected HTTP {status}"
