"""respx helpers: an ES2 connector on a mocked transport, with recorded (not slept) waits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from connectors.es2 import ES2Connector, ES2Options

BASE = "http://es2.test"
API = f"{BASE}/api/v2"
SCHOOL = f"{API}/schools/42"


def env(
    data: Any = None, *, cursor: str | None = None, revision: int = 1, **extra: Any
) -> dict[str, Any]:
    return {"success": True, "data": data, "next_cursor": cursor, "revision": revision, **extra}


def fail(error_type: str, error: str = "boom") -> dict[str, Any]:
    return {"success": False, "data": [{"id": 666}], "error_type": error_type, "error": error}


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post("/api/v2/auth/token").mock(
            side_effect=_tokens(),
        )
        yield router


def _tokens() -> Any:
    counter = iter(range(1, 10_000))

    def issue(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json=env({"access_token": f"T{next(counter)}", "expires_in": 3600})
        )

    return issue


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def conn(sleeps: Sleeps) -> Iterator[ES2Connector]:
    client = httpx.Client(base_url=BASE)
    c = ES2Connector(
        client,
        school="42",
        credentials={"client_id": "id", "client_secret": "s3cret"},
        options=ES2Options(page_size=2, today=__import__("datetime").date(2025, 10, 15)),
        attempts=4,
        sleep=sleeps,
    )
    yield c
    c.close()
