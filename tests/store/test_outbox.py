"""The outbox: one item per idempotency key, claimed once, results recorded."""

from __future__ import annotations

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
    with store.begin() as tx:
        tx.outbox.record(
            [
                OutboxResult(ids[0], "accepted", remote_id="r-1"),
                OutboxResult(ids[1], "sent", ticket="t-9"),
                OutboxResult(ids[2], "failed", error="TransientError: 503"),
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
    with store.begin() as tx:
        assert tx.outbox.claim("sch1", "es2") == []
        retried = tx.outbox.claim("sch1", "es2", retry_failed=True)
    assert [(i.id, i.attempts) for i in retried] == [(ids[2], 2)]


def test_recording_an_unknown_item_fails(store: Store) -> None:
    with pytest.raises(StoreError, match="does not exist"), store.begin() as tx:
        tx.outbox.record([OutboxResult(123_456, "accepted")])
