"""Error classification as data: what to do with a response or a transport exception.

:func:`classify` is pure; the retry loop (tenacity) and the token manager act on its answer.

=====================================  ==================
input                                   action
=====================================  ==================
2xx, envelope ``success: true``         OK
transport error (reset, timeout, …)     RETRY
429                                     RETRY_AFTER (``Retry-After`` seconds)
5xx; 2xx that is not an envelope        RETRY
401 on ``/auth/token``                  FAIL_AUTH
401 elsewhere; ``error_type: auth``     REAUTH
403                                     FAIL_AUTH
410; ``error_type: cursor_expired``     CURSOR_EXPIRED
``success:false`` busy / internal       RETRY (even with HTTP 200)
``success:false`` validation/not_found  REJECTED
other 4xx                               REJECTED
unknown ``error_type``                  CONTRACT
=====================================  ==================
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import httpx

from connectors.es2._envelope import Envelope, parse_envelope


class Action(enum.StrEnum):
    OK = "ok"
    RETRY = "retry"
    RETRY_AFTER = "retry_after"
    REAUTH = "reauth"
    FAIL_AUTH = "fail_auth"
    REJECTED = "rejected"
    CURSOR_EXPIRED = "cursor_expired"
    CONTRACT = "contract_violation"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str
    status: int | None = None
    retry_after: float | None = None
    envelope: Envelope | None = None


_BY_ERROR_TYPE = {
    "busy": Action.RETRY,
    "internal": Action.RETRY,
    "validation": Action.REJECTED,
    "not_found": Action.REJECTED,
    "cursor_expired": Action.CURSOR_EXPIRED,
    "auth": Action.REAUTH,
}

TOKEN_PATH = "/auth/token"


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta form); ``None`` when absent or not a number."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)


def classify(outcome: httpx.Response | BaseException) -> Decision:
    """What to do about ``outcome``: see the table in the module docstring."""
    if isinstance(outcome, BaseException):
        return _classify_exception(outcome)
    return _classify_response(outcome)


def _classify_exception(exc: BaseException) -> Decision:
    if isinstance(exc, httpx.TransportError):  # connect/read/write errors, resets, timeouts
        return Decision(Action.RETRY, f"transport error: {type(exc).__name__}")
    return Decision(Action.CONTRACT, f"unexpected error: {type(exc).__name__}")


def _classify_response(resp: httpx.Response) -> Decision:
    status = resp.status_code
    env = parse_envelope(resp)
    detail = _detail(env)
    on_token = resp.request.url.path.endswith(TOKEN_PATH) if _has_request(resp) else False
    if status == 429:
        secs = retry_after_seconds(resp.headers.get("Retry-After"))
        return Decision(Action.RETRY_AFTER, "rate limited (429)", status, secs, env)
    if status == 401:
        if on_token:
            return Decision(Action.FAIL_AUTH, f"credentials refused{detail}", status, envelope=env)
        return Decision(Action.REAUTH, f"token refused{detail}", status, envelope=env)
    if status == 403:
        return Decision(Action.FAIL_AUTH, f"access denied{detail}", status, envelope=env)
    if status == 410:
        return Decision(Action.CURSOR_EXPIRED, f"cursor expired{detail}", status, envelope=env)
    if status >= 500:
        return Decision(Action.RETRY, f"server error {status}{detail}", status, envelope=env)
    if env is None:
        if 200 <= status < 300:
            return Decision(Action.RETRY, f"HTTP {status} without a JSON envelope", status)
        return Decision(Action.REJECTED, f"HTTP {status}", status)
    if env.success and 200 <= status < 300:
        return Decision(Action.OK, "ok", status, envelope=env)
    if env.success:
        return Decision(Action.CONTRACT, f"HTTP {status} with success:true", status, envelope=env)
    action = _BY_ERROR_TYPE.get(env.error_type or "")
    if action is None:
        if 400 <= status < 500:
            return Decision(Action.REJECTED, f"HTTP {status}{detail}", status, envelope=env)
        return Decision(
            Action.CONTRACT, f"success:false with unknown error_type{detail}", status, envelope=env
        )
    if action is Action.REAUTH and on_token:
        action = Action.FAIL_AUTH
    return Decision(action, f"{env.error_type}{detail}", status, envelope=env)


def _detail(env: Envelope | None) -> str:
    if env is None or not env.error:
        return ""
    return f": {env.error[:200]}"


def _has_request(resp: httpx.Response) -> bool:
    try:
        resp.request  # noqa: B018 - raises RuntimeError when the response was built by hand
    except RuntimeError:
        return False
    return True
