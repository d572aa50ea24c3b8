"""АСИОУ's rows of the shared table: each status and failure, and the error it raises."""

from __future__ import annotations

import httpx
import pytest

from connectors.asiou._classify import classify
from connectors.transport import error_for
from core.errors import (
    AuthError,
    ContractViolation,
    RateLimited,
    RemoteRejected,
    TransientError,
)


def _error(outcome: httpx.Response | Exception) -> type[Exception] | None:
    decision = classify(outcome)
    return None if decision.action == "ok" else type(error_for(decision, "asiou"))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, None),
        (202, None),
        (204, ContractViolation),
        (401, AuthError),
        (403, AuthError),
        (429, RateLimited),
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (504, TransientError),
        (400, RemoteRejected),
        (404, RemoteRejected),
        (409, RemoteRejected),
        (413, RemoteRejected),
        (422, RemoteRejected),
        (418, ContractViolation),
        (301, ContractViolation),
    ],
)
def test_status_table(status: int, expected: type[Exception] | None) -> None:
    assert _error(httpx.Response(status)) is expected


def test_503_carries_retry_after() -> None:
    err = error_for(classify(httpx.Response(503, headers={"Retry-After": "7"})), "asiou")
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
    assert _error(exc) is expected
