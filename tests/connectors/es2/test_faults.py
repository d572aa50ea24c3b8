"""One test per contract fault: what the connector does about it (respx, no network)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
import respx

from connectors.es2 import ES2Connector
from core.entities import Entity
from core.errors import (
    AuthError,
    CursorExpired,
    InconsistentRead,
    RemoteRejected,
    TransientError,
)
from tests.connectors.es2.conftest import Sleeps, env, fail

SUBJECTS = "/api/v2/schools/42/subjects"


def pages_of(*bodies: Any) -> Any:
    """A side effect answering each call with the next response (httpx.Response or exception)."""
    queue = list(bodies)

    def answer(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        if isinstance(item, httpx.Response):
            return item
        return httpx.Response(200, json=item)

    return answer


def ids(conn: ES2Connector, entity: Entity = Entity.SUBJECTS) -> list[int]:
    return [r["id"] for p in conn.pull(entity, None) for r in p.records]


def test_429_waits_retry_after_then_succeeds(
    mock: respx.MockRouter, conn: ES2Connector, sleeps: Sleeps
) -> None:
    route = mock.get(SUBJECTS).mock(
        side_effect=pages_of(
            httpx.Response(429, headers={"Retry-After": "3"}, json=fail("busy")),
            env([{"id": 1}]),
        )
    )
    assert ids(conn) == [1]
    assert route.call_count == 2
    assert sleeps == [3.0]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_5xx_retried_with_capped_backoff(
    mock: respx.MockRouter, conn: ES2Connector, sleeps: Sleeps, status: int
) -> None:
    route = mock.get(SUBJECTS).mock(
        side_effect=pages_of(
            httpx.Response(status, text="gateway"),
            httpx.Response(status, text="gateway"),
            env([{"id": 1}]),
        )
    )
    assert ids(conn) == [1]
    assert route.call_count == 3
    assert len(sleeps) == 2 and all(0 <= s <= conn.options.backoff_max for s in sleeps)


def test_5xx_gives_up_after_configured_attempts(mock: respx.MockRouter, conn: ES2Connector) -> None:
    route = mock.get(SUBJECTS).mock(return_value=httpx.Response(503, text="down"))
    with pytest.raises(TransientError):
        ids(conn)
    assert route.call_count == 4  # attempts=4 in the fixture


def test_connection_reset_is_retried(mock: respx.MockRouter, conn: ES2Connector) -> None:
    route = mock.get(SUBJECTS).mock(
        side_effect=pages_of(
            httpx.RemoteProtocolError("peer closed connection"),
            httpx.ReadError("reset"),
            env([{"id": 1}, {"id": 2}]),
        )
    )
    assert ids(conn) == [1, 2]
    assert route.call_count == 3


def test_success_false_with_200_is_never_applied(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    route = mock.get(SUBJECTS).mock(
        side_effect=pages_of(
            env([{"id": 1}, {"id": 2}], cursor="c1"),
            httpx.Response(200, json=fail("busy")),  # carries data [{"id": 666}]
            env([{"id": 3}], cursor=None),
        )
    )
    got = ids(conn)
    assert got == [1, 2, 3]
    assert 666 not in got
    assert route.call_count == 3


def test_success_false_validation_stops_without_retry(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    route = mock.get(SUBJECTS).mock(return_value=httpx.Response(200, json=fail("validation")))
    seen: list[int] = []
    with pytest.raises(RemoteRejected):
        for page in conn.pull(Entity.SUBJECTS, None):
            seen += [r["id"] for r in page.records]
    assert seen == [] and route.call_count == 1


def test_expired_token_refreshed_once_and_request_repeated(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer T1":
            return httpx.Response(401, json=fail("auth", "token expired"))
        return httpx.Response(200, json=env([{"id": 1}]))

    route = mock.get(SUBJECTS).mock(side_effect=answer)
    assert ids(conn) == [1]
    assert route.call_count == 2
    assert mock.routes[0].call_count == 2  # initial token + one refresh


def test_second_401_in_a_row_is_auth_error_without_retry(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    route = mock.get(SUBJECTS).mock(return_value=httpx.Response(401, json=fail("auth")))
    with pytest.raises(AuthError, match="second 401"):
        ids(conn)
    assert route.call_count == 2
    assert mock.routes[0].call_count == 2


def test_401_on_token_endpoint_is_auth_error_without_retry(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    token = mock.post("/api/v2/auth/token").mock(
        return_value=httpx.Response(401, json=fail("auth", "bad client"))
    )
    data = mock.get(SUBJECTS).mock(return_value=httpx.Response(200, json=env([])))
    with pytest.raises(AuthError) as info:
        ids(conn)
    assert token.call_count == 1 and data.call_count == 0
    assert "s3cret" not in str(info.value)


def test_concurrent_401s_share_one_refresh(mock: respx.MockRouter, conn: ES2Connector) -> None:
    barrier = threading.Barrier(4)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer T1":
            barrier.wait(timeout=5)  # all four requests hold the stale token at once
            return httpx.Response(401, json=fail("auth", "token expired"))
        return httpx.Response(200, json=env([{"id": 1}]))

    mock.get(SUBJECTS).mock(side_effect=answer)
    conn.api.tokens.current()  # T1
    errors: list[BaseException] = []

    def work() -> None:
        try:
            assert ids(conn) == [1]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert errors == []
    assert mock.routes[0].call_count == 2  # T1 and exactly one refresh


def test_revision_change_restarts_the_pull(mock: respx.MockRouter, conn: ES2Connector) -> None:
    route = mock.get(SUBJECTS).mock(
        side_effect=pages_of(
            env([{"id": 1}, {"id": 2}], cursor="c1", revision=5),
            env([{"id": 3}], cursor=None, revision=6),  # moved: restart
            env([{"id": 1}, {"id": 2}], cursor="c1", revision=6),
            env([{"id": 3}], cursor=None, revision=6),
        )
    )
    pages = list(conn.pull(Entity.SUBJECTS, None))
    assert [[r["id"] for r in p.records] for p in pages] == [[1, 2], [1, 2], [3]]
    assert [p.complete for p in pages] == [False, False, True]
    assert pages[-1].state == {"revision": 6, "attempt": 1}  # the consumer can see the restart
    assert route.calls[2].request.url.params.get("cursor") is None  # from the start again


def test_revision_changing_for_ever_fails_after_three_restarts(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    rev = iter(range(100))

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=env([{"id": 1}], cursor="c", revision=next(rev)))

    route = mock.get(SUBJECTS).mock(side_effect=answer)
    with pytest.raises(InconsistentRead):
        list(conn.pull(Entity.SUBJECTS, None))
    assert route.call_count == 8  # the first read and 3 restarts, each moved on its 2nd page


def test_item_repeated_on_next_page_is_not_duplicated(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    mock.get(SUBJECTS).mock(
        side_effect=pages_of(
            env([{"id": 1}, {"id": 2}], cursor="c1"),
            env([{"id": 2}, {"id": 3}], cursor="c2"),
            env([{"id": 4}], cursor=None),
        )
    )
    assert ids(conn) == [1, 2, 3, 4]


def test_cursor_expired_410_raises(mock: respx.MockRouter, conn: ES2Connector) -> None:
    route = mock.get("/api/v2/schools/42/marks").mock(
        return_value=httpx.Response(410, json=fail("cursor_expired", "too old"))
    )
    with pytest.raises(CursorExpired):
        list(conn.pull(Entity.MARKS, {"changed_since": "2025-01-01T00:00:00+07:00"}))
    assert route.call_count == 1
