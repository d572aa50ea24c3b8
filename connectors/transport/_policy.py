"""One retry policy for every connector: tenacity does the waiting.

Only :class:`~core.errors.TransientError` (a ``RETRY`` or ``RATE_LIMITED`` decision) is retried,
and never one that carries an authentication status (401, 403, 407): a refused login is never
repeated by the retry loop, whatever a classification decided (О7 locks an account after five
failed logins).
The wait is the server's ``Retry-After`` when it gave one (capped by ``max_retry_after``), else a
capped exponential backoff with jitter. Retrying stops after ``attempts`` attempts, or before a
wait that would end past ``budget`` seconds from the first attempt: no new attempt starts once
the budget is spent, so retrying one request costs at most ``budget`` plus one request deadline.

Each retry is logged as it happens (``connectors.transport`` ``retrying``: the request, its
attempt, the wait in seconds, the reason); the error that ends the retries says how many attempts
took how long.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
import tenacity

from connectors.base import ConnectorSettings
from core.errors import PermanentError, TransientError

T = TypeVar("T")

#: statuses that speak of credentials: an error carrying one is never retried
AUTH_STATUSES = frozenset({401, 403, 407})
Wait = Callable[[tenacity.RetryCallState], float]

log = structlog.get_logger("connectors.transport")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long transient faults are retried; ``sleep`` and ``clock`` are
    injectable (tests wait for nothing)."""

    #: attempts in all, the first one included
    attempts: int = 6
    #: seconds retrying one request may take, waits and attempts after the first included
    budget: float = 300.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    jitter: float = 0.5
    #: the longest ``Retry-After`` honoured as given
    max_retry_after: float = 120.0
    #: a tenacity wait replacing the exponential backoff (``Retry-After`` still comes first)
    backoff: Wait | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_settings(
        cls,
        settings: ConnectorSettings,
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 120.0,
    ) -> RetryPolicy:
        """The policy a connector's settings ask for (``retries``, ``retry_budget``), with the
        connector's own backoff."""
        return cls(
            attempts=settings.retries + 1,
            budget=settings.retry_budget,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            max_retry_after=max_retry_after,
        )

    def wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        hint = exc.retry_after if isinstance(exc, TransientError) else None
        if hint is not None:
            return float(min(max(hint, 0.0), self.max_retry_after))
        backoff = self.backoff or tenacity.wait_exponential_jitter(
            multiplier=self.backoff_initial, max=self.backoff_max, jitter=self.jitter
        )
        return float(backoff(state))

    def call(self, fn: Callable[[], T], *, system: str, target: str) -> T:
        """``fn()``, retried while it raises :class:`TransientError`. ``target`` names the
        request in the log (``"GET http://host/path"``, no credentials)."""
        run = _Run(self, system, target)
        retrying = tenacity.Retrying(
            stop=run.stop,
            wait=self.wait,
            retry=tenacity.retry_if_exception(retryable),
            before_sleep=run.logged,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(fn)
        except TransientError as exc:
            raise run.gave_up(exc) from exc


def retryable(exc: BaseException) -> bool:
    """Whether the retry policy may try again after ``exc``: a transient fault that is not about
    credentials."""
    return (
        isinstance(exc, TransientError)
        and not isinstance(exc, PermanentError)
        and exc.status not in AUTH_STATUSES
    )


class _Run:
    """The bookkeeping of one :meth:`RetryPolicy.call`."""

    def __init__(self, policy: RetryPolicy, system: str, target: str) -> None:
        self.policy = policy
        self.system = system
        self.target = target
        self.started = policy.clock()
        self.attempts = 0
        self.over_budget = False

    def stop(self, state: tenacity.RetryCallState) -> bool:
        self.attempts = state.attempt_number
        if state.attempt_number >= self.policy.attempts:
            return True
        spent = self.policy.clock() - self.started
        self.over_budget = spent + state.upcoming_sleep > self.policy.budget
        return self.over_budget

    def logged(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        log.warning(
            "retrying",
            system=self.system,
            url=self.target,
            attempt=state.attempt_number,
            attempts=self.policy.attempts,
            wait_s=round(state.upcoming_sleep, 3),
            status=getattr(exc, "status", None),
            reason=_reason(exc, self.target),
        )

    def gave_up(self, exc: TransientError) -> TransientError:
        """``exc`` saying how the retries ended (``exc`` itself when nothing was retried)."""
        if self.attempts <= 1 and not self.over_budget:
            return exc
        spent = self.policy.clock() - self.started
        tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''} in {spent:.1f} s"
        why = (
            f"the retry budget of {self.policy.budget:g} s is spent"
            if self.over_budget
            else "no attempts left"
        )
        message = f"{_core(exc)} (gave up after {tries}: {why})"
        try:
            return type(exc)(
                message, system=exc.system, status=exc.status, retry_after=exc.retry_after
            )
        except TypeError:  # a subclass with a constructor of its own: keep it as it is
            return exc


def _core(exc: BaseException) -> str:
    """The message of ``exc`` without the ``[system]`` prefix the error tree adds."""
    system = getattr(exc, "system", None)
    return str(exc).removeprefix(f"[{system}] ") if system else str(exc)


def _reason(exc: BaseException | None, target: str) -> str:
    """The reason in ``exc``'s message, without the request it names (logged beside it)."""
    if exc is None:
        return "unknown"
    text = _core(exc)
    if text.startswith(target):  # "GET http://host/path?query: reason"
        _, sep, rest = text[len(target) :].partition(": ")
        if sep:
            return rest
    return text
