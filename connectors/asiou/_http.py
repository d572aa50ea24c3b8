"""Transport: error classification as a table, and retries that honour ``Retry-After``.

=====================================  ===========================================  =========
what happened                          raised                                       retried
=====================================  ===========================================  =========
200 / 202                              —                                            —
401, 403                               AuthError                                    no
429                                    RateLimited(retry_after)                     yes
500, 502, 503, 504                     TransientError(retry_after)                  yes
404                                    RemoteRejected (unknown school / receipt)    no
400, 409, 413, 422                     RemoteRejected                               no
any other status                       ContractViolation                            no
timeout, connect error, reset          TransientError                               yes
connection closed mid-package          TransientError (no page of it is complete)   by the run
body cut short / count mismatch        ContractViolation (see ``_parse``)           no
=====================================  ===========================================  =========

Retries wrap only the request up to its status line: once a package streams, its pages are out
and a fault mid-body ends the pull (its atomic pages are never completed, so nothing of the
package is applied); the next run starts again from the saved state.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import TypeVar

import httpx
import tenacity

from core.errors import (
    AuthError,
    ConnectorError,
    ContractViolation,
    RateLimited,
    RemoteRejected,
    TransientError,
)

SYSTEM = "asiou"
T = TypeVar("T")

_TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
_REJECTED_STATUS = frozenset({400, 404, 409, 413, 422})
_AUTH_STATUS = frozenset({401, 403})


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify_status(status: int, headers: httpx.Headers | None = None) -> ConnectorError | None:
    """The error an HTTP status stands for, or ``None`` when it is a success."""
    if status in (200, 202):
        return None
    wait = retry_after(headers.get("Retry-After")) if headers is not None else None
    if status in _AUTH_STATUS:
        return AuthError(f"credentials refused (HTTP {status})", system=SYSTEM, status=status)
    if status == 429:
        return RateLimited("rate limited", system=SYSTEM, status=status, retry_after=wait)
    if status in _TRANSIENT_STATUS:
        return TransientError(
            f"service unavailable (HTTP {status})", system=SYSTEM, status=status, retry_after=wait
        )
    if status in _REJECTED_STATUS:
        return RemoteRejected(f"request refused (HTTP {status})", system=SYSTEM, status=status)
    return ContractViolation(f"unexpected HTTP {status}", system=SYSTEM, status=status)


def classify_exception(exc: Exception) -> ConnectorError:
    """A transport-level failure as a gateway error."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, httpx.TransportError):  # timeouts, refused, reset, closed mid-body
        return TransientError(f"transport failure: {type(exc).__name__}", system=SYSTEM)
    return ContractViolation(f"unexpected failure: {type(exc).__name__}", system=SYSTEM)


class RetryPolicy:
    """How often and how long to retry transient errors; ``sleep`` is injectable for tests."""

    def __init__(
        self,
        attempts: int = 5,
        *,
        base: float = 1.0,
        cap: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.attempts = max(1, attempts)
        self.base = base
        self.cap = cap
        self.sleep = sleep

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return float(min(exc.retry_after, self.cap))
        return float(min(self.cap, self.base * 2 ** (state.attempt_number - 1)))

    def call(self, fn: Callable[[], T]) -> T:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(TransientError),
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(fn)
