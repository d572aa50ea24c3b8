"""ES2 against a dead, slow or hostile server: bounded in time and size, every retry logged as
it happens, the final error one line naming the request (never a credential)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import respx
from pydantic import SecretStr
from structlog.testing import capture_logs

from connectors.base import ConnectorSettings
from connectors.es2 import ES2Connector, ES2Options
from connectors.transport import MAX_DEPTH
from core.entities import Entity
from core.errors import ContractViolation, TransientError
from tests.connectors.es2.conftest import BASE, Sleeps, env
from tests.connectors.transport.drip import DripServer, http_head

SUBJECTS = "/api/v2/schools/42/subjects"


def ids(conn: ES2Connector) -> list[int]:
    return [r["id"] for p in conn.pull(Entity.SUBJECTS, None) for r in p.records]


def test_json_nested_beyond_the_bound_is_a_contract_violation(
    mock: respx.MockRouter, conn: ES2Connector, sleeps: Sleeps
) -> None:
    deep = '{"success": true, "revision": 1, "data": ' + "[" * 100_000 + "]" * 100_000 + "}"
    route = mock.get(SUBJECTS).mock(return_value=httpx.Response(200, text=deep))
    with pytest.raises(ContractViolation) as info:
        ids(conn)
    assert str(info.value) == (
        f"[es2] GET {BASE}{SUBJECTS}?limit=2: the JSON answer nests deeper than {MAX_DEPTH} levels"
    )
    assert route.call_count == 1 and sleeps == []  # not retried: the same body would come


def test_a_page_over_the_body_cap_is_refused(mock: respx.MockRouter) -> None:
    settings = ConnectorSettings(
        "es2",
        BASE,
        "42",
        credentials={"client_id": SecretStr("id"), "client_secret": SecretStr("s")},
        max_body_mb=0.01,
    )
    conn = ES2Connector.from_settings(settings, client=httpx.Client(base_url=BASE))
    items = [{"id": i, "name": "x" * 100} for i in range(200)]  # ~25 KB
    mock.get(SUBJECTS).mock(return_value=httpx.Response(200, json=env(items)))
    with pytest.raises(ContractViolation, match=r"subjects\?limit=500: the answer is larger"):
        ids(conn)
    conn.close()


def test_retries_are_logged_and_the_final_error_names_the_url_without_credentials(
    mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    client = httpx.Client(base_url="http://gw:s3cret@es2.test")
    conn = ES2Connector(
        client,
        school="42",
        credentials={"client_id": "id", "client_secret": "s3cret"},
        options=ES2Options(page_size=2, today=dt.date(2025, 10, 15)),
        attempts=3,
        sleep=sleeps,
    )
    mock.get(SUBJECTS).mock(return_value=httpx.Response(503, text="down"))
    with capture_logs() as logs, pytest.raises(TransientError) as info:
        ids(conn)
    url = f"{BASE}{SUBJECTS}"
    assert [(e["event"], e["url"], e["attempt"], e["wait_s"]) for e in logs] == [
        ("retrying", f"GET {url}", 1, round(sleeps[0], 3)),
        ("retrying", f"GET {url}", 2, round(sleeps[1], 3)),
    ]
    assert all(e["reason"] == "server error HTTP 503" for e in logs)
    message = str(info.value)
    assert message.startswith(f"[es2] GET {url}?limit=2: server error HTTP 503 (gave up after 3 ")
    assert "\n" not in message
    assert "s3cret" not in repr(logs) + message and "gw:" not in repr(logs) + message
    conn.close()


@pytest.mark.timeout(30)
def test_a_dripping_server_ends_the_pull_within_the_deadline() -> None:
    body = b'{"success": true, "revision": 1, "data": []}'
    head = http_head(length=len(body))
    with DripServer(head + body, pause=0.2) as server:
        settings = ConnectorSettings(
            "es2",
            server.url,
            "42",
            credentials={"client_id": SecretStr("id"), "client_secret": SecretStr("s")},
            timeout=5.0,
            retries=0,
            request_deadline=1.0,
        )
        conn = ES2Connector.from_settings(settings)
        with pytest.raises(TransientError) as info:
            ids(conn)
        conn.close()
    assert str(info.value) == (
        f"[es2] POST {server.url}/api/v2/auth/token: "
        "no complete answer within the request deadline of 1 s"
    )
    assert server.dripped < 15  # of 130 bytes, 0.2 s apart
