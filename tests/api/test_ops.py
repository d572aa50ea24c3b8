"""``/health`` says whether the store answers at the newest schema; ``/metrics`` gives runs and
their outcomes, records per entity, open conflicts, outbox depth by status and feed lag per
token, in Prometheus' text format."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from api import create_app
from core.entities import Entity
from fixtures.serve import serve_in_thread
from store import NewFinding, NewPush, Store
from tests.api.conftest import A, B, MakeToken, Schools, api_settings


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_health_is_ok_on_a_current_store(server: str) -> None:
    r = httpx.get(f"{server}/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["migrations_current"] is True
    assert body["revision"] == body["head"] is not None


def test_health_is_unavailable_when_the_store_is_not_migrated(tmp_path: Path) -> None:
    with (
        Store.open(f"sqlite:///{tmp_path}/empty.db") as empty,
        serve_in_thread(create_app(empty, api_settings())) as url,
    ):
        r = httpx.get(f"{url}/health")
    assert r.status_code == 503
    assert r.json()["migrations_current"] is False and r.json()["revision"] is None


def test_metrics_report_the_store_and_the_feed(
    store: Store, server: str, client_for: MakeToken, schools: Schools
) -> None:
    mark = schools.a[Entity.MARKS][0]
    with store.begin() as tx:
        run = tx.runs.start(A, "es2", "pull")
        tx.runs.finish(run, "success", {})
        tx.runs.finish(tx.runs.start(B, "o7", "pull"), "failed", {}, error="boom")
        tx.outbox.enqueue_many(
            [
                NewPush(A, "es2", "marks", mark.id, "upsert", f"k{i}", {"version": 1})
                for i in range(3)
            ]
        )
        tx.conflicts.add_findings(
            [
                NewFinding(A, "es2", "marks", mark.id, "closed_period", "open"),
                NewFinding(A, "es2", "marks", mark.id, "late_mark", "noted"),
            ]
        )
    token, client = client_for("lagging", [A], ["feed"])
    client.get("/feed/v1/changes", params={"limit": 10})
    text = httpx.get(f"{server}/metrics").text
    got = _samples(text)
    with store.read() as tx:
        marks_a = tx.records.count(Entity.MARKS, school_id=A)
        head = tx.changes.last_position()
        opened = tx.queries.conflict_totals(A)
    assert got[("schoolgate_records", (("entity", "marks"), ("school", A)))] == marks_a
    assert got[("schoolgate_store_up", ())] == 1
    assert got[("schoolgate_feed_head", ())] == head
    run_labels = (("direction", "pull"), ("school", A), ("status", "success"), ("system", "es2"))
    assert got[("schoolgate_sync_runs", run_labels)] == 1
    failed = (("direction", "pull"), ("school", B), ("status", "failed"), ("system", "o7"))
    assert got[("schoolgate_sync_runs", failed)] == 1
    assert (
        got[("schoolgate_outbox", (("school", A), ("status", "pending"), ("system", "es2")))] == 3
    )
    assert opened == {("open",): 1, ("noted",): 1}
    assert got[("schoolgate_conflicts_open", (("school", A),))] == 1
    assert got[("schoolgate_feed_lag", (("token", token.name),))] == head - 10
    requests = ("schoolgate_api_requests_total", (("method", "GET"), ("route", "/feed/v1/changes"), ("status", "200")))  # fmt: skip
    assert got[requests] == 1
