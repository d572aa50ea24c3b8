from __future__ import annotations

import httpx
import pytest

from connectors.asiou import RetryPolicy, classify_exception, classify_status, retry_after
from core.errors import (
    AuthError,
    ContractViolation,
    RateLimited,
    RemoteRejected,
    TransientError,
)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, None),
        (202, None),
        (401, AuthError),
        (403, AuthError),
        (429, RateLimited),
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (504, TransientError),
        (400, RemoteRejected),
        (404, RemoteRejected),
        (422, RemoteRejected),
        (418, ContractViolation),
        (301, ContractViolation),
    ],
)
def test_status_table(status: int, expected: type[Exception] | None) -> None:
    err = classify_status(status, httpx.Headers())
    assert (type(err) if err else None) is expected


def test_503_carries_retry_after() -> None:
    err = classify_status(503, httpx.Headers({"Retry-After": "7"}))
    assert isinstance(err, TransientError) and err.retry_after == 7.0


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectError("refused"), TransientError),
        (httpx.ReadTimeout("slow"), TransientError),
        (httpx.RemoteProtocolError("closed"), TransientError),
        (ValueError("x"), ContractViolation),
    ],
)
def test_exception_table(exc: Exception, expected: type[Exception]) -> None:
    assert type(classify_exception(exc)) is expected


def test_retry_after_forms() -> None:
    assert retry_after("12") == 12.0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_retry_policy_honours_retry_after_and_gives_up() -> None:
    waits: list[float] = []
    calls = 0

    def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TransientError("busy", system="asiou", retry_after=4)
        return calls

    assert RetryPolicy(5, sleep=waits.append).call(flaky) == 3
    assert waits == [4.0, 4.0]

    def always() -> int:
        raise TransientError("busy", system="asiou")

    waits.clear()
    with pytest.raises(TransientError):
        RetryPolicy(3, base=0.5, sleep=waits.append).call(always)
    assert waits == [0.5, 1.0]


def test_permanent_errors_are_not_retried() -> None:
    waits: list[float] = []

    def denied() -> None:
        raise AuthError("no", system="asiou")

    with pytest.raises(AuthError):
        RetryPolicy(5, sleep=waits.append).call(denied)
    assert waits == []
