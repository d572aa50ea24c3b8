"""Reads (state, snapshots, windows) and pushes of the ES2 connector against respx."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import httpx
import pytest
import respx

from connectors.base import PushItem, Scope
from connectors.es2 import ES2Connector, ES2Options, windows
from connectors.es2._push import idempotency_key
from core.entities import Entity
from core.errors import ConfigError
from plugins import load
from schoolgate.config import SystemConfig
from tests.connectors.es2.conftest import env

MARKS = "/api/v2/schools/42/marks"


def test_incremental_state_moves_changed_since_to_newest_seen_minus_overlap(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    route = mock.get(MARKS).mock(
        side_effect=[
            httpx.Response(
                200,
                json=env(
                    [
                        {"id": 1, "updated_at": "2025-10-01T10:00:00+07:00"},
                        {"id": 2, "updated_at": "2025-10-03T10:00:00+07:00"},
                    ],
                    cursor="c1",
                    revision=9,
                ),
            ),
            httpx.Response(
                200,
                json=env(
                    [{"id": 3, "updated_at": "2025-10-02T10:00:00+07:00", "deleted": True}],
                    revision=9,
                ),
            ),
        ]
    )
    since = "2025-09-30T00:00:00+07:00"
    pages = list(conn.pull(Entity.MARKS, {"changed_since": since}))
    assert route.calls[0].request.url.params["changed_since"] == since
    assert route.calls[1].request.url.params["cursor"] == "c1"
    assert pages[0].state["cursor"] == "c1" and pages[0].state["changed_since"] == since
    assert not pages[0].snapshot and not pages[-1].complete
    assert [r["id"] for r in pages[1].records] == [3]  # the tombstone is passed on as is
    new = dt.datetime.fromisoformat(pages[-1].state["changed_since"])
    assert new == dt.datetime(2025, 10, 3, 2, 59, tzinfo=dt.UTC)  # 10:00+07 minus 60 s
    assert pages[-1].state["revision"] == 9


def test_incremental_resumes_from_saved_cursor(mock: respx.MockRouter, conn: ES2Connector) -> None:
    route = mock.get(MARKS).mock(
        return_value=httpx.Response(
            200, json=env([{"id": 5, "updated_at": "2025-10-05T00:00:00+07:00"}], revision=4)
        )
    )
    state = {
        "changed_since": None,
        "cursor": "c7",
        "revision": 4,
        "watermark": "2025-10-06T00:00:00+07:00",
    }
    pages = list(conn.pull(Entity.MARKS, state))
    assert route.calls[0].request.url.params["cursor"] == "c7"
    assert not pages[0].snapshot  # a resumed read is not a complete picture
    assert pages[-1].state["changed_since"] == "2025-10-05T23:59:00+07:00"


def test_full_read_of_incremental_entity_is_a_snapshot(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    mock.get(MARKS).mock(return_value=httpx.Response(200, json=env([], revision=1)))
    (page,) = list(conn.pull(Entity.MARKS, None))
    assert page.snapshot and page.complete
    assert page.state == {"changed_since": None, "revision": 1}


def test_lessons_are_read_in_windows_of_at_most_92_days(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    route = mock.get("/api/v2/schools/42/lessons").mock(
        return_value=httpx.Response(200, json=env([{"id": 1}], revision=1))
    )
    pages = list(conn.pull(Entity.LESSONS, None))
    spans = [
        (
            dt.date.fromisoformat(c.request.url.params["start"]),
            dt.date.fromisoformat(c.request.url.params["end"]),
        )
        for c in route.calls
    ]
    assert spans[0][0] == dt.date(2025, 9, 1) and spans[-1][1] == dt.date(2026, 8, 31)
    assert all((e - s).days + 1 <= 92 for s, e in spans)
    assert all(b[0] - a[1] == dt.timedelta(days=1) for a, b in itertools.pairwise(spans))
    assert all(p.snapshot and p.complete for p in pages)
    assert pages[0].scope == Scope(dt.date(2025, 9, 1), dt.date(2025, 12, 1))


def test_incremental_lessons_reread_recent_window(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    route = mock.get("/api/v2/schools/42/lessons").mock(
        return_value=httpx.Response(200, json=env([], revision=1))
    )
    list(conn.pull(Entity.LESSONS, {"read_to": "2026-08-31"}))
    (call,) = route.calls
    assert call.request.url.params["start"] == "2025-10-01"  # today 2025-10-15 minus 14 days
    assert call.request.url.params["end"] == "2025-10-22"


def test_windows_cover_range_exactly() -> None:
    ws = windows(dt.date(2025, 9, 1), dt.date(2025, 9, 10), 4)
    assert ws == [
        (dt.date(2025, 9, 1), dt.date(2025, 9, 4)),
        (dt.date(2025, 9, 5), dt.date(2025, 9, 8)),
        (dt.date(2025, 9, 9), dt.date(2025, 9, 10)),
    ]


def _items(n: int) -> list[PushItem]:
    return [
        PushItem(
            key=f"k{i}",
            entity=Entity.MARKS,
            op="upsert",
            payload={"pupil_id": 1, "lesson_id": 2, "value": "5", "work_type": "КР", "weight": 1},
        )
        for i in range(n)
    ]


def test_push_batches_of_500_with_idempotency_key_and_client_key(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["items"]
        results = [
            {"client_key": it["client_key"], "status": "created", "id": 100 + i}
            for i, it in enumerate(items)
        ]
        results[0] = {
            "client_key": items[0]["client_key"],
            "status": "rejected",
            "error": "unknown pupil",
        }
        return httpx.Response(200, json=env({"results": results}))

    route = mock.post(f"{MARKS}:batch").mock(side_effect=answer)
    items = _items(1001)
    results = conn.push(Entity.MARKS, items)
    sizes = [len(json.loads(c.request.content)["items"]) for c in route.calls]
    assert sizes == [500, 500, 1]
    keys = [c.request.headers["Idempotency-Key"] for c in route.calls]
    assert len(set(keys)) == 3
    assert [r.key for r in results] == [i.key for i in items]
    assert results[0].status == "rejected" and results[0].error == "unknown pupil"
    assert results[1].status == "created" and results[1].remote_id == "101"
    assert json.loads(route.calls[0].request.content)["items"][3]["client_key"] == "k3"


def test_push_retry_after_timeout_reuses_the_key(
    mock: respx.MockRouter, conn: ES2Connector
) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Idempotency-Key"])
        if len(seen) == 1:
            raise httpx.ReadTimeout("slow")
        items = json.loads(request.content)["items"]
        return httpx.Response(
            200,
            json=env(
                {
                    "results": [
                        {"client_key": it["client_key"], "status": "created", "id": 1}
                        for it in items
                    ]
                }
            ),
        )

    mock.post(f"{MARKS}:batch").mock(side_effect=answer)
    results = conn.push(Entity.MARKS, _items(2))
    assert len(seen) == 2 and seen[0] == seen[1]
    assert [r.status for r in results] == ["created", "created"]


def test_delete_and_update_items_carry_id() -> None:
    body = [{"client_key": "a", "id": 7, "delete": True}]
    assert idempotency_key(Entity.MARKS, body) == idempotency_key(Entity.MARKS, list(body))
    assert idempotency_key(Entity.MARKS, body) != idempotency_key(Entity.ATTENDANCE, body)


def test_push_delete_reports_deleted(mock: respx.MockRouter, conn: ES2Connector) -> None:
    route = mock.post(f"{MARKS}:batch").mock(
        return_value=httpx.Response(
            200, json=env({"results": [{"client_key": "d1", "status": "updated", "id": 7}]})
        )
    )
    (res,) = conn.push(Entity.MARKS, [PushItem("d1", Entity.MARKS, "delete", {}, remote_id="7")])
    assert res.status == "deleted"
    assert json.loads(route.calls[0].request.content)["items"] == [
        {"client_key": "d1", "id": 7, "delete": True}
    ]


def test_capabilities_and_entry_point() -> None:
    caps = load("es2").connector.declared_capabilities()
    assert caps.pull[Entity.MARKS].value == "incremental"
    assert caps.pull[Entity.LESSONS].value == "windowed"
    assert caps.push == {
        Entity.MARKS,
        Entity.FINAL_MARKS,
        Entity.ATTENDANCE,
        Entity.LESSONS,
        Entity.PUPILS,
    }
    assert caps.push_batch_size == 500


def test_from_settings_resolves_secrets_and_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ES2_ID", "id")
    secret = tmp_path / "s"
    secret.write_text("pw\n")
    cfg = SystemConfig.model_validate(
        {
            "base_url": "http://127.0.0.1:1",
            "remote_school": "42",
            "credentials": {"client_id": {"env": "ES2_ID"}, "client_secret": {"file": str(secret)}},
            "options": {"page_size": 100, "year_start": "2025-09-01"},
            "retries": 2,
        }
    )
    c = ES2Connector.from_settings(cfg.connector_settings("es2"))
    assert c.options.page_size == 100 and c.api.policy.attempts == 3
    c.close()
    with pytest.raises(ConfigError, match="page_size"):
        ES2Options.parse({"page_size": 5000})
    with pytest.raises(ConfigError, match="unknown option"):
        ES2Options.parse({"pagesize": 5})
