"""Latency and the contract's rate limit (10 requests/s per client → 429 with Retry-After),
observed over real HTTP on loopback; both off by default."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from fixtures.es2 import RATE_LIMIT, SimClock, Simulator
from fixtures.generator import generate_school
from fixtures.pace import Delay, Pace, RateLimiter
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread

S = "/api/v2/schools/42"
CREDENTIALS = {"client_id": "schoolgate", "client_secret": "secret", "school_id": 42}


class FrozenClock:
    """The limiter's clock, moved by hand: every request of a burst arrives at one instant."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def school() -> SchoolData:
    return generate_school(2, "tiny")


@contextlib.contextmanager
def served(sim: Simulator) -> Iterator[httpx.Client]:
    with serve_in_thread(sim.app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def login(client: httpx.Client) -> dict[str, str]:
    r = client.post("/api/v2/auth/token", json=CREDENTIALS)
    assert r.status_code == 200
    return {"Authorization": f"Bearer {r.json()['data']['access_token']}"}


def test_every_answer_waits_the_latency(school: SchoolData) -> None:
    sim = Simulator(school, pace=Pace(latency_ms=150))
    with served(sim) as http:
        auth = login(http)
        for _ in range(3):
            started = time.perf_counter()
            r = http.get(f"{S}/subjects", headers=auth)
            assert r.status_code == 200
            assert time.perf_counter() - started >= 0.15


def test_jitter_is_seeded_and_within_its_bounds() -> None:
    pace = Pace(latency_ms=50, jitter_ms=250, seed=4)
    assert Delay(pace).next() == Delay(pace).next()
    spread = Delay(pace)
    values = [spread.next() for _ in range(500)]
    assert all(0.05 <= v <= 0.3 for v in values) and max(values) - min(values) > 0.2
    assert Pace.real(rate_limit=10) == Pace(latency_ms=50, jitter_ms=250, rate_limit=10)


def test_the_eleventh_request_in_a_second_is_refused_with_retry_after(school: SchoolData) -> None:
    sim = Simulator(school, pace=Pace(rate_limit=RATE_LIMIT))
    assert sim.limiter is not None
    clock = FrozenClock()
    sim.limiter.clock = clock
    with served(sim) as http:
        auth = login(http)  # the token request is the client's first of this second
        answers = [http.get(f"{S}/subjects", headers=auth) for _ in range(12)]
        ok = [r for r in answers if r.status_code == 200]
        refused = [r for r in answers if r.status_code == 429]
        assert len(ok) == RATE_LIMIT - 1 and len(refused) == 3
        assert [r.headers["X-RateLimit-Remaining"] for r in ok] == [
            str(n) for n in range(8, -1, -1)
        ]
        for r in refused:
            assert r.headers["Retry-After"] == "1" and r.headers["X-RateLimit-Remaining"] == "0"
            assert r.json() == {
                "success": False,
                "data": None,
                "error_type": "busy",
                "error": "too many requests",
            }
        clock.now += 1.0  # a second later the window has room again
        assert http.get(f"{S}/subjects", headers=auth).status_code == 200
        assert (sim.limiter.admitted, sim.limiter.refused) == (RATE_LIMIT + 1, 3)


def test_tokens_of_one_client_share_its_limit(school: SchoolData) -> None:
    sim = Simulator(school, pace=Pace(rate_limit=RATE_LIMIT))
    assert sim.limiter is not None
    sim.limiter.clock = FrozenClock()
    with served(sim) as http:
        first, second = login(http), login(http)
        codes = [http.get(f"{S}/subjects", headers=h).status_code for h in [first, second] * 5]
        assert codes.count(200) == RATE_LIMIT - 2 and codes.count(429) == 2


def test_waiting_retry_after_gets_through_in_real_time(school: SchoolData) -> None:
    sim = Simulator(school, pace=Pace(rate_limit=RATE_LIMIT))
    with served(sim) as http:
        auth = login(http)
        refused = None
        for _ in range(100):
            r = http.get(f"{S}/subjects", headers=auth)
            if r.status_code == 429:
                refused = r
                break
        assert refused is not None
        time.sleep(float(refused.headers["Retry-After"]))
        assert http.get(f"{S}/subjects", headers=auth).status_code == 200


def test_concurrent_requests_never_pass_the_limit_in_any_window(school: SchoolData) -> None:
    """Four connections of one client hammer the server for a second and a half: the times the
    server admitted a request never hold more than 10 within one second."""
    sim = Simulator(school, pace=Pace(rate_limit=RATE_LIMIT))
    limiter = sim.limiter
    assert limiter is not None
    stamps: list[float] = []
    real = limiter.clock

    def clock() -> float:
        now = real()
        stamps.append(now)
        return now

    limiter.clock = clock
    admitted_at: list[float] = []
    original = limiter.admit

    def admit(key: str) -> tuple[bool, int, float]:
        result = original(key)
        if result[0]:
            admitted_at.append(stamps[-1])
        return result

    limiter.admit = admit  # type: ignore[method-assign]
    with served(sim) as http:
        auth = login(http)
        deadline = time.monotonic() + 1.5
        url = str(http.base_url)
        threads = [threading.Thread(target=_hammer, args=(url, auth, deadline)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert limiter.refused > 0
    admitted_at.sort()
    for i, t in enumerate(admitted_at):
        inside = [u for u in admitted_at[i:] if u < t + 1.0]
        assert len(inside) <= RATE_LIMIT


def _hammer(url: str, auth: dict[str, str], deadline: float) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.monotonic() < deadline:
            client.get(f"{S}/subjects", headers=auth)


def test_no_limit_and_no_wait_by_default(school: SchoolData) -> None:
    sim = Simulator(school, clock=SimClock())
    assert sim.limiter is None and not sim.pace.delays
    with served(sim) as http:
        auth = login(http)
        codes = {http.get(f"{S}/subjects", headers=auth).status_code for _ in range(30)}
        assert codes == {200}
        assert http.get(f"{S}/subjects", headers=auth).headers["X-RateLimit-Remaining"] == "9"


def test_limiter_window_slides() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(2, 1.0, clock=clock)
    assert [limiter.admit("a")[0] for _ in range(3)] == [True, True, False]
    assert limiter.admit("b")[0] is True  # another client has a window of its own
    clock.now += 0.5
    admitted, _, wait = limiter.admit("a")
    assert not admitted and wait == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.admit("a")[0] is True
    assert RateLimiter.retry_after(0.2) == "1" and RateLimiter.retry_after(1.5) == "2"
