"""One retry policy: what it retries, how long it waits, when it stops, what it logs."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from structlog.testing import capture_logs

from connectors.transport import RetryPolicy
from core.errors import AuthError, RateLimited, TransientError

TARGET = "GET http://sys.test/api/items"


class FakeTime:
    """A clock that only moves when the policy sleeps (or an attempt takes time)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def policy(time: FakeTime, **kw: Any) -> RetryPolicy:
    return RetryPolicy(sleep=time.sleep, clock=time.clock, **kw)


def failing(times: int, error: Exception, time: FakeTime | None = None, cost: float = 0.0) -> Any:
    calls = {"n": 0}

    def fn() -> int:
        calls["n"] += 1
        if time is not None:
            time.now += cost  # the attempt itself takes time
        if calls["n"] <= times:
            raise error
        return calls["n"]

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def test_retry_after_is_honoured_over_the_backoff_and_capped() -> None:
    t = FakeTime()
    fn = failing(2, TransientError("busy", system="s", retry_after=4))
    assert policy(t, attempts=5).call(fn, system="s", target=TARGET) == 3
    assert t.slept == [4.0, 4.0]
    t = FakeTime()
    fn = failing(1, RateLimited("slow down", system="s", retry_after=3600))
    policy(t, attempts=5, budget=10_000, max_retry_after=90).call(fn, system="s", target=TARGET)
    assert t.slept == [90.0]


def test_exponential_backoff_without_retry_after() -> None:
    t = FakeTime()
    fn = failing(10, TransientError("down", system="s"))
    with pytest.raises(TransientError):
        policy(t, attempts=4, backoff_initial=0.5, jitter=0).call(fn, system="s", target=TARGET)
    assert t.slept == [0.5, 1.0, 2.0]
    assert fn.calls["n"] == 4


def test_a_custom_backoff_replaces_the_exponential_one() -> None:
    t = FakeTime()
    fn = failing(2, TransientError("down", system="s"))
    policy(t, backoff=lambda _state: 0.25).call(fn, system="s", target=TARGET)
    assert t.slept == [0.25, 0.25]


def test_permanent_errors_are_not_retried() -> None:
    t = FakeTime()
    fn = failing(5, AuthError("no", system="s"))
    with pytest.raises(AuthError, match=r"^\[s\] no$"):
        policy(t).call(fn, system="s", target=TARGET)
    assert t.slept == [] and fn.calls["n"] == 1


def test_the_final_error_says_how_the_retries_ended() -> None:
    t = FakeTime()
    fn = failing(10, TransientError(f"{TARGET}: server error HTTP 503", system="s", status=503))
    with pytest.raises(TransientError) as info:
        policy(t, attempts=3, backoff_initial=1, jitter=0).call(fn, system="s", target=TARGET)
    message = str(info.value)
    assert message == (
        f"[s] {TARGET}: server error HTTP 503 (gave up after 3 attempts in 3.0 s: no attempts left)"
    )
    assert "\n" not in message
    assert info.value.status == 503


def test_a_single_attempt_is_not_dressed_up() -> None:
    t = FakeTime()
    err = RateLimited("slow down", system="s", retry_after=2)
    with pytest.raises(RateLimited) as info:
        policy(t, attempts=1).call(failing(1, err), system="s", target=TARGET)
    assert info.value is err


def test_the_time_spent_retrying_is_bounded_by_the_budget() -> None:
    """A dead server answering slowly: no new attempt starts once the budget is spent."""
    t = FakeTime()
    fn = failing(1000, TransientError("no answer in time", system="s"), time=t, cost=7.0)
    with pytest.raises(TransientError, match="the retry budget of 60 s is spent") as info:
        policy(t, attempts=1000, budget=60, backoff_initial=1, backoff_max=8, jitter=0).call(
            fn, system="s", target=TARGET
        )
    spent = t.now - 100.0
    assert spent <= 60 + 7.0  # the budget, and one attempt's own time at most
    assert fn.calls["n"] < 1000
    assert info.value.retry_after is None and "gave up after" in str(info.value)


def test_a_retry_after_beyond_the_budget_ends_the_retries_at_once() -> None:
    t = FakeTime()
    fn = failing(5, RateLimited("slow down", system="s", retry_after=600))
    with pytest.raises(RateLimited, match="budget of 300 s"):
        policy(t, max_retry_after=900).call(fn, system="s", target=TARGET)
    assert t.slept == [] and fn.calls["n"] == 1


def test_each_retry_is_logged_as_it_happens() -> None:
    t = FakeTime()
    errors = iter(
        [
            TransientError(f"{TARGET}: server error HTTP 503", system="s", status=503),
            RateLimited(
                f"{TARGET}: rate limited (HTTP 429)", system="s", status=429, retry_after=2
            ),
        ]
    )
    logged_before_each_attempt: list[int] = []

    def fn() -> str:
        logged_before_each_attempt.append(len(logs))
        error = next(errors, None)
        if error is not None:
            raise error
        return "ok"

    with capture_logs() as logs:
        assert (
            policy(t, attempts=5, backoff_initial=0.5, jitter=0).call(fn, system="s", target=TARGET)
            == "ok"
        )
    assert logged_before_each_attempt == [0, 1, 2]  # logged before the next attempt, not after
    assert logs == [
        {
            "event": "retrying",
            "log_level": "warning",
            "system": "s",
            "url": TARGET,
            "attempt": 1,
            "attempts": 5,
            "wait_s": 0.5,
            "status": 503,
            "reason": "server error HTTP 503",
        },
        {
            "event": "retrying",
            "log_level": "warning",
            "system": "s",
            "url": TARGET,
            "attempt": 2,
            "attempts": 5,
            "wait_s": 2.0,
            "status": 429,
            "reason": "rate limited (HTTP 429)",
        },
    ]


def test_from_settings() -> None:
    from connectors.base import ConnectorSettings

    settings = ConnectorSettings("s", "http://h", "1", retries=2, retry_budget=45.0)
    made = RetryPolicy.from_settings(settings, backoff_max=9.0)
    assert (made.attempts, made.budget, made.backoff_max) == (3, 45.0, 9.0)
    assert dataclasses.replace(made, attempts=1).attempts == 1
