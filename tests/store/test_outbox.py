"""The outbox: one item per idempotency key, claimed once, results recorded."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import StoreError
from store import OutboxResult, Store


def _enqueue(store: Store, key: str, record: str = "mark-1") -> tuple[int, bool]:
    with store.begin() as tx:
        return tx.outbox.enqueue("sch1", "es2", "marks", record, "create", key, {"value": "5"})


def test_the_same_key_is_enqueued_once(store: Store) -> None:
    first, created = _enqueue(store, "es2:marks:mark-1:v1")
    again, created_again = _enqueue(store, "es2:marks:mark-1:v1")
    other, _ = _enqueue(store, "es2:marks:mark-1:v2")
    assert created and not created_again
    assert first == again != other
    with store.read() as tx:
        assert [i.idempotency_key for i in tx.outbox.find()] == [
            "es2:marks:mark-1:v1",
            "es2:marks:mark-1:v2",
        ]


def test_claim_and_record_results(store: Store) -> None:
    ids = [_enqueue(store, f"k{i}", f"mark-{i}")[0] for i in range(5)]
    with store.begin() as tx:
        claimed = tx.outbox.claim("sch1", "es2", limit=3)
        assert [i.id for i in claimed] == ids[:3]
        assert {(i.status, i.attempts) for i in claimed} == {("sending", 1)}
        # claimed items are not handed out twice
        assert [i.id for i in tx.outbox.claim("sch1", "es2", limit=10)] == ids[3:]
        assert tx.outbox.claim("sch1", "o7") == []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    with store.begin() as tx:
        tx.outbox.record(
            [
                OutboxResult(ids[0], "accepted", remote_id="r-1"),
                OutboxResult(ids[1], "sent", ticket="t-9"),
                OutboxResult(ids[2], "failed", error="TransientError: 503", next_attempt_at=later),
            ]
        )
        with pytest.raises(StoreError, match="unknown status"):
            tx.outbox.record([OutboxResult(ids[3], "lost")])
    with store.read() as tx:
        by_id = {i.id: i for i in tx.outbox.find()}
        failed = tx.outbox.find(status="failed")
    assert (by_id[ids[0]].status, by_id[ids[0]].remote_id) == ("accepted", "r-1")
    assert (by_id[ids[1]].status, by_id[ids[1]].ticket) == ("sent", "t-9")
    assert [i.id for i in failed] == [ids[2]] and failed[0].error == "TransientError: 503"
    assert failed[0].next_attempt_at == later
    with store.begin() as tx:
        # a failed item waits for its next attempt …
        assert tx.outbox.claim("sch1", "es2") == []
        # … and is claimed again once it is due
        due = tx.outbox.claim("sch1", "es2", now=later + dt.timedelta(seconds=1))
    assert [(i.id, i.attempts) for i in due] == [(ids[2], 2)]
    with store.begin() as tx:
        tx.outbox.record([OutboxResult(ids[2], "failed", error="again", next_attempt_at=later)])
        retried = tx.outbox.claim("sch1", "es2", retry_failed=True)
    assert [(i.id, i.attempts) for i in retried] == [(ids[2], 3)]


def test_recording_an_unknown_item_fails(store: Store) -> None:
    with pytest.raises(StoreError, match="does not exist"), store.begin() as tx:
        tx.outbox.record([OutboxResult(123_456, "accepted")])


def test_released_items_go_back_unattempted(store: Store) -> None:
    ids = [_enqueue(store, f"k{i}", f"mark-{i}")[0] for i in range(2)]
    with store.begin() as tx:
        tx.outbox.claim("sch1", "es2")
        assert tx.outbox.release([ids[1]]) == 1
    with store.read() as tx:
        by_id = {i.id: i for i in tx.outbox.find()}
    assert (by_id[ids[0]].status, by_id[ids[0]].attempts) == ("sending", 1)
    assert (by_id[ids[1]].status, by_id[ids[1]].attempts) == ("pending", 0)


def test_settle_removes_the_waiting_upserts_of_records_the_system_holds(store: Store) -> None:
    with store.begin() as tx:
        for key, record, op, system in (
            ("a1", "mark-1", "upsert", "es2"),
            ("a2", "mark-1", "upsert", "es2"),  # an older version of the same record
            ("b1", "mark-2", "upsert", "es2"),
            ("c1", "mark-1", "upsert", "o7"),  # another system
            ("d1", "mark-1", "delete", "es2"),  # not an upsert
        ):
            tx.outbox.enqueue("sch1", system, "marks", record, op, key, {})
        [sending] = tx.outbox.claim("sch1", "o7")
    with store.begin() as tx:
        assert tx.outbox.settle("sch1", "es2", "marks", ["mark-1"]) == 2
        assert tx.outbox.settle("sch1", "o7", "marks", ["mark-1"]) == 0  # in flight: kept
        assert tx.outbox.settle("sch1", "es2", "lessons", ["mark-2"]) == 0
    with store.read() as tx:
        left = sorted(i.idempotency_key for i in tx.outbox.find())
    assert left == ["b1", "c1", "d1"] and sending.idempotency_key == "c1"


def test_retry_makes_failed_items_due_now(store: Store) -> None:
    ids = [_enqueue(store, f"k{i}", f"mark-{i}")[0] for i in range(3)]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with store.begin() as tx:
        tx.outbox.claim("sch1", "es2")
        tx.outbox.record(
            [
                OutboxResult(ids[0], "failed", error="timeout", next_attempt_at=later),
                OutboxResult(ids[1], "rejected", error="closed period"),
                OutboxResult(ids[2], "failed", error="timeout", next_attempt_at=later),
            ]
        )
    with store.begin() as tx:
        assert tx.outbox.retry([ids[1]]) == {("sch1", "es2"): 1}  # named: a rejected one too
        assert tx.outbox.retry() == {("sch1", "es2"): 2}  # every failed one
        assert tx.outbox.retry() == {}
        claimed = tx.outbox.claim("sch1", "es2")
    assert sorted(i.id for i in claimed) == ids
