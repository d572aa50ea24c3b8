from __future__ import annotations

import httpx
import pytest

from connectors.o7._classify import classify
from connectors.transport import Action


def _json(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("response", "action"),
    [
        (_json(200, {"classes": []}), Action.OK),
        (_json(200, {"success": True, "saved": []}), Action.OK),
        (_json(200, {"success": False, "message": "Период не более 31 дня"}), Action.CONTRACT),
        (_json(200, {"success": False, "message": "Нет доступа"}), Action.REJECTED),
        (
            httpx.Response(200, text="<html>oops</html>", headers={"Content-Type": "text/html"}),
            Action.RETRY,
        ),
        (httpx.Response(200, text="not json"), Action.RETRY),
        (_json(200, ["a list"]), Action.RETRY),
        (httpx.Response(401), Action.REAUTH),
        (httpx.Response(302, headers={"Location": "/auth/login?next=/api"}), Action.REAUTH),
        (httpx.Response(302, headers={"Location": "/elsewhere"}), Action.CONTRACT),
        (
            httpx.Response(500, text="<html>500</html>", headers={"Content-Type": "text/html"}),
            Action.RETRY,
        ),
        (httpx.Response(503, text="maintenance"), Action.RETRY),
        (httpx.Response(502), Action.RETRY),
        (httpx.Response(429), Action.RATE_LIMITED),
        (httpx.Response(404), Action.REJECTED),
    ],
)
def test_response_table(response: httpx.Response, action: Action) -> None:
    assert classify(response).action is action


def test_retry_after_is_read() -> None:
    v = classify(httpx.Response(503, headers={"Retry-After": "7"}))
    assert v.retry_after == 7.0


@pytest.mark.parametrize(
    ("exc", "action"),
    [
        (httpx.ReadTimeout("slow"), Action.RETRY),
        (httpx.ConnectError("refused"), Action.RETRY),
        (httpx.RemoteProtocolError("reset"), Action.RETRY),
        (ValueError("bug"), Action.CONTRACT),
    ],
)
def test_exception_table(exc: Exception, action: Action) -> None:
    assert classify(exc).action is action
