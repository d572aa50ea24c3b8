"""О7's own rules over the shared table (:mod:`connectors.transport`): what an RPC answer means.

answer                                          action
200 JSON object (no ``success: false``)         OK
200 ``success: false`` "Период не более 31 дня"  CONTRACT  (we never ask for more: a bug)
200 ``success: false`` other message            REJECTED
200 HTML / not JSON / not an object             RETRY     (the HTML error page, 200 variant)
200 JSON nested beyond the bound                CONTRACT
401; 302/303/307 to ``/auth/login``             REAUTH    (session expired: log in once again)
other redirects                                 CONTRACT
429                                             RATE_LIMITED
500, 502, 503, 504, other 5xx                   RETRY     (HTML 500 page, nightly 503)
403                                             AUTH
other 4xx                                       REJECTED
timeout, connection refused/reset               RETRY     (slow answers, restarts)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from connectors.transport import HTTP, Action, Decision, TooDeep, parse_json
from connectors.transport import classify as shared

WINDOW_LIMIT_MESSAGE = "Период не более 31 дня"
LOGIN_PATH = "/auth/login"

Answer = dict[str, Any]


def classify(outcome: httpx.Response | BaseException) -> Decision[Answer]:
    """What to do about one answer to an RPC call (or its absence)."""
    if isinstance(outcome, BaseException):
        return shared(outcome)
    base: Decision[Answer] = shared(outcome, HTTP)
    status = outcome.status_code
    if 300 <= status < 400 and LOGIN_PATH in outcome.headers.get("Location", ""):
        return base.but(Action.REAUTH, f"HTTP {status} to the login page: session expired")
    if base.action is Action.REAUTH:
        return base.but(Action.REAUTH, f"HTTP {status}: session expired")
    if base.action is not Action.OK:
        return base
    try:
        body = _json_object(outcome)
    except TooDeep as exc:
        return base.but(Action.CONTRACT, str(exc))
    if body is None:
        return base.but(Action.RETRY, f"HTTP {status} with HTML or non-JSON where JSON was due")
    decided = dataclasses.replace(base, payload=body)
    if body.get("success") is False:
        message = str(body.get("message") or "no message")
        if WINDOW_LIMIT_MESSAGE.casefold() in message.casefold():
            return decided.but(Action.CONTRACT, f"О7 refused the date window: {message}")
        return decided.but(Action.REJECTED, f"О7 refused the call: {message}")
    return decided


def _json_object(response: httpx.Response) -> Answer | None:
    if "html" in response.headers.get("Content-Type", ""):
        return None
    try:
        body = parse_json(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
