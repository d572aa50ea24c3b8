"""The classification table: one row per kind of answer the ES2 contract allows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.es2._classify import classify
from connectors.transport import Action

URL = "http://es2.test/api/v2/schools/42/marks"
TOKEN_URL = "http://es2.test/api/v2/auth/token"


def resp(
    status: int,
    body: Any = None,
    *,
    url: str = URL,
    headers: dict[str, str] | None = None,
    text: str | None = None,
) -> httpx.Response:
    req = httpx.Request("GET", url)
    if text is not None:
        return httpx.Response(status, text=text, request=req, headers=headers)
    return httpx.Response(status, json=body, request=req, headers=headers)


def ok(**kw: Any) -> dict[str, Any]:
    return {"success": True, "data": [], "next_cursor": None, "revision": 1, **kw}


def bad(error_type: str) -> dict[str, Any]:
    return {"success": False, "error_type": error_type, "error": "x"}


TABLE = [
    ("200 ok", resp(200, ok()), Action.OK),
    ("200 success:false busy", resp(200, bad("busy")), Action.RETRY),
    ("200 success:false internal", resp(200, bad("internal")), Action.RETRY),
    ("200 success:false validation", resp(200, bad("validation")), Action.REJECTED),
    ("200 success:false not_found", resp(200, bad("not_found")), Action.REJECTED),
    ("200 success:false cursor_expired", resp(200, bad("cursor_expired")), Action.CURSOR_EXPIRED),
    ("200 success:false auth", resp(200, bad("auth")), Action.REAUTH),
    ("200 success:false unknown type", resp(200, bad("weird")), Action.CONTRACT),
    ("200 html", resp(200, text="<html>oops</html>"), Action.RETRY),
    ("401 expired token", resp(401, bad("auth")), Action.REAUTH),
    ("401 on /auth/token", resp(401, bad("auth"), url=TOKEN_URL), Action.AUTH),
    ("403", resp(403, bad("auth")), Action.AUTH),
    ("410 cursor expired", resp(410, bad("cursor_expired")), Action.CURSOR_EXPIRED),
    ("429", resp(429, bad("busy"), headers={"Retry-After": "7"}), Action.RATE_LIMITED),
    ("500", resp(500, bad("internal")), Action.RETRY),
    ("502 html", resp(502, text="bad gateway"), Action.RETRY),
    ("503", resp(503, text=""), Action.RETRY),
    ("504", resp(504, text=""), Action.RETRY),
    ("400 validation", resp(400, bad("validation")), Action.REJECTED),
    ("404 html", resp(404, text="nope"), Action.REJECTED),
    ("reset", httpx.RemoteProtocolError("peer closed"), Action.RETRY),
    ("read error", httpx.ReadError("reset by peer"), Action.RETRY),
    ("connect error", httpx.ConnectError("refused"), Action.RETRY),
    ("timeout", httpx.ReadTimeout("slow"), Action.RETRY),
    ("bug", ValueError("x"), Action.CONTRACT),
]


@pytest.mark.parametrize(
    ("outcome", "action"), [(o, a) for _, o, a in TABLE], ids=[name for name, _, _ in TABLE]
)
def test_classify_table(outcome: httpx.Response | Exception, action: Action) -> None:
    assert classify(outcome).action is action


def test_retry_after_is_carried() -> None:
    d = classify(resp(429, bad("busy"), headers={"Retry-After": "7"}))
    assert d.retry_after == 7.0
    assert classify(resp(429, bad("busy"), headers={"Retry-After": "soon"})).retry_after is None
