"""What to do with each answer of О7: a small table, decided apart from the retry loop.

answer                                          action
200 JSON object (no ``success: false``)         OK
200 ``success: false`` "Период не более 31 дня"  CONTRACT  (we never ask for more: a bug)
200 ``success: false`` other message            REJECT
200 HTML / not JSON / not an object             RETRY     (the HTML error page, 200 variant)
401; 302/303/307 to ``/auth/login``             RELOGIN   (session expired)
other redirects                                 CONTRACT
429, 500, 502, 503, 504                         RETRY     (HTML 500 page, nightly 503)
other 4xx                                       REJECT
other 5xx                                       RETRY
timeout, connection refused/reset               RETRY     (slow answers, restarts)
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

import httpx

WINDOW_LIMIT_MESSAGE = "Период не более 31 дня"
LOGIN_PATH = "/auth/login"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class Action(enum.StrEnum):
    OK = "ok"
    RETRY = "retry"
    RELOGIN = "relogin"
    REJECT = "reject"
    CONTRACT = "contract"


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    reason: str
    body: dict[str, Any] | None = None
    retry_after: float | None = None


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    ctype = response.headers.get("Content-Type", "")
    if "html" in ctype:
        return None
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def classify_response(response: httpx.Response) -> Verdict:
    """The verdict on one HTTP answer to an RPC call."""
    status = response.status_code
    if status == 401:
        return Verdict(Action.RELOGIN, "HTTP 401: session expired")
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        if LOGIN_PATH in location:
            return Verdict(Action.RELOGIN, f"HTTP {status} to the login page: session expired")
        return Verdict(Action.CONTRACT, f"unexpected redirect HTTP {status}")
    if status in _RETRY_STATUSES or status >= 500:
        kind = (
            "an HTML error page"
            if "html" in response.headers.get("Content-Type", "")
            else "an error"
        )
        return Verdict(
            Action.RETRY, f"HTTP {status} with {kind}", retry_after=_retry_after(response)
        )
    if status >= 400:
        return Verdict(Action.REJECT, f"HTTP {status}")
    body = _json_object(response)
    if body is None:
        return Verdict(Action.RETRY, f"HTTP {status} with HTML or non-JSON where JSON was due")
    if body.get("success") is False:
        message = str(body.get("message") or "no message")
        if WINDOW_LIMIT_MESSAGE.casefold() in message.casefold():
            return Verdict(Action.CONTRACT, f"О7 refused the date window: {message}", body)
        return Verdict(Action.REJECT, f"О7 refused the call: {message}", body)
    return Verdict(Action.OK, "ok", body)


def classify_exception(exc: Exception) -> Verdict:
    """The verdict on a transport failure (no answer at all)."""
    if isinstance(exc, httpx.TimeoutException):
        return Verdict(Action.RETRY, f"no answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.TransportError):
        return Verdict(Action.RETRY, f"connection failed ({type(exc).__name__})")
    return Verdict(Action.CONTRACT, f"unexpected failure ({type(exc).__name__})")
