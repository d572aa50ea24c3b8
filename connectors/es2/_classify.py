"""ES2's own rules over the shared table (:mod:`connectors.transport`): the envelope decides.

:func:`classify` is pure; the retry policy and the token manager act on its answer.

=====================================  ==================
answer                                  action
=====================================  ==================
2xx, envelope ``success: true``         OK
2xx that is not an envelope             RETRY
429                                     RATE_LIMITED (``Retry-After``)
5xx; transport error (reset, timeout)   RETRY
401 on ``/auth/token``                  AUTH
401 elsewhere; ``error_type: auth``     REAUTH (AUTH on ``/auth/token``)
403                                     AUTH
410; ``error_type: cursor_expired``     CURSOR_EXPIRED
``success:false`` busy / internal       RETRY (even with HTTP 200)
``success:false`` validation/not_found  REJECTED
other 4xx                               REJECTED
``success:true`` with a non-2xx status  CONTRACT
unknown ``error_type`` (not a 4xx)      CONTRACT
3xx; JSON nested beyond the bound       CONTRACT
=====================================  ==================
"""

from __future__ import annotations

import dataclasses

import httpx

from connectors.es2._envelope import Envelope, parse_envelope
from connectors.transport import HTTP, Action, Decision, TooDeep
from connectors.transport import classify as shared

TOKEN_PATH = "/auth/token"
#: the shared table with ES2's own row: 410 Gone is an expired cursor
TABLE = HTTP.but({410: Action.CURSOR_EXPIRED})

_BY_ERROR_TYPE = {
    "busy": Action.RETRY,
    "internal": Action.RETRY,
    "validation": Action.REJECTED,
    "not_found": Action.REJECTED,
    "cursor_expired": Action.CURSOR_EXPIRED,
    "auth": Action.REAUTH,
}


def classify(outcome: httpx.Response | BaseException) -> Decision[Envelope]:
    """What to do about ``outcome``: see the table in the module docstring."""
    if isinstance(outcome, BaseException):
        return shared(outcome)
    base: Decision[Envelope] = shared(outcome, TABLE)
    try:
        env = parse_envelope(outcome)
    except TooDeep as exc:
        return base.but(Action.CONTRACT, str(exc))
    detail = _detail(env)
    decided = dataclasses.replace(base, payload=env, reason=base.reason + detail)
    status = outcome.status_code
    on_token = _on_token(outcome)
    if base.action is Action.REAUTH:
        if on_token:
            return decided.but(Action.AUTH, f"credentials refused (HTTP {status}){detail}")
        return decided.but(Action.REAUTH, f"token refused (HTTP {status}){detail}")
    if base.action not in (Action.OK, Action.REJECTED):
        return decided
    if env is None:
        if base.action is Action.OK:
            return decided.but(Action.RETRY, f"HTTP {status} without a JSON envelope")
        return decided
    if env.success:
        if base.action is Action.OK:
            return decided
        return decided.but(Action.CONTRACT, f"HTTP {status} with success:true")
    action = _BY_ERROR_TYPE.get(env.error_type or "")
    if action is None:
        if base.action is Action.REJECTED:
            return decided
        return decided.but(Action.CONTRACT, f"success:false with unknown error_type{detail}")
    if action is Action.REAUTH and on_token:
        action = Action.AUTH
    return decided.but(action, f"{env.error_type}{detail}")


def _detail(env: Envelope | None) -> str:
    if env is None or not env.error:
        return ""
    return f": {env.error[:200]}"


def _on_token(response: httpx.Response) -> bool:
    try:
        return response.request.url.path.endswith(TOKEN_PATH)
    except RuntimeError:  # a response built by hand has no request
        return False
