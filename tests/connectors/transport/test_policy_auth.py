"""The retry policy never repeats what a refused login looks like (О7 locks an account after five
failed logins): an :class:`AuthError`, or any transient error carrying 401, 403 or 407, is tried
once; a transient 503 is retried. And no system's classification makes 401 or 403 retried."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors.asiou._classify import classify as asiou_classify
from connectors.es2._classify import classify as es2_classify
from connectors.o7._classify import classify as o7_classify
from connectors.transport import RETRIED, RetryPolicy
from connectors.transport import classify as shared_classify
from core.errors import AuthError, ConnectorError, TransientError


def _policy() -> RetryPolicy:
    return RetryPolicy(attempts=6, budget=60, sleep=lambda _s: None)


def _calls(error: ConnectorError) -> int:
    calls = 0

    def fn() -> None:
        nonlocal calls
        calls += 1
        raise error

    with pytest.raises(type(error)):
        _policy().call(fn, system="x", target="POST http://h/auth/login")
    return calls


@pytest.mark.parametrize(
    "error",
    [
        AuthError("refused", system="o7", status=200),
        AuthError("refused", system="es2", status=401),
        TransientError("odd", system="x", status=401),
        TransientError("odd", system="x", status=403),
        TransientError("odd", system="x", status=407),
    ],
)
def test_an_authentication_failure_is_tried_once(error: ConnectorError) -> None:
    assert _calls(error) == 1


def test_a_transient_fault_is_retried_up_to_the_attempts() -> None:
    assert _calls(TransientError("busy", system="x", status=503)) == 6
    assert _calls(TransientError("reset", system="x")) == 6


def _response(status: int, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("POST", url), **kwargs)


Classify = Callable[[httpx.Response], Any]


@pytest.mark.parametrize(
    ("classify", "url"),
    [
        (shared_classify, "http://h/x"),
        (es2_classify, "http://h/api/v2/auth/token"),
        (es2_classify, "http://h/api/v2/schools/1/groups"),
        (o7_classify, "http://h/api/SchoolService/GetClasses"),
        (asiou_classify, "http://h/asiou/exchange/export"),
    ],
)
@pytest.mark.parametrize("status", [401, 403])
def test_no_system_classifies_an_auth_status_as_retried(
    classify: Classify, url: str, status: int
) -> None:
    body = {"success": False, "data": None, "error_type": "auth", "error": "no"}
    decision = classify(_response(status, url, json=body))
    assert decision.action not in RETRIED
