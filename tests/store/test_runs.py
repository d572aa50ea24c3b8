"""Sync runs and checkpoints; a checkpoint commits or rolls back with its records."""

from __future__ import annotations

import pytest

from core.entities import Entity
from core.errors import StoreError
from store import Store
from tests.store.conftest import mark


def test_run_lifecycle_and_listing(store: Store) -> None:
    with store.begin() as tx:
        first = tx.runs.start("sch1", "es2", "pull")
        tx.runs.finish(first, "success", {"marks": {"created": 3, "updated": 0}})
        second = tx.runs.start("sch1", "o7", "push")
    with store.begin() as tx:
        tx.runs.finish(second, "failed", error="AuthError: credentials refused")
        with pytest.raises(StoreError, match="cannot finish as 'running'"):
            tx.runs.finish(second, "running")
        with pytest.raises(StoreError, match="does not exist"):
            tx.runs.finish(999_999, "success")
    with store.read() as tx:
        runs = tx.runs.find(school_id="sch1")
        only_es2 = tx.runs.find(system="es2")
        got = tx.runs.get(first)
    assert [r.id for r in runs] == [second, first]
    assert runs[0].status == "failed" and runs[0].error == "AuthError: credentials refused"
    assert [r.id for r in only_es2] == [first]
    assert got is not None and got.counts == {"marks": {"created": 3, "updated": 0}}
    assert got.finished_at is not None and got.finished_at >= got.started_at


def test_checkpoint_save_and_replace(store: Store) -> None:
    with store.begin() as tx:
        assert tx.checkpoints.get("sch1", "es2", Entity.MARKS) is None
        tx.checkpoints.save("sch1", "es2", Entity.MARKS, {"revision": 1})
        tx.checkpoints.save("sch1", "es2", Entity.MARKS, {"revision": 2, "window": ["2026-02-01"]})
        tx.checkpoints.save("sch1", "o7", Entity.MARKS, {"cursor": "abc"})
    with store.read() as tx:
        assert tx.checkpoints.get("sch1", "es2", Entity.MARKS) == {
            "revision": 2,
            "window": ["2026-02-01"],
        }
        assert tx.checkpoints.get("sch1", "o7", Entity.MARKS) == {"cursor": "abc"}


def test_checkpoint_is_lost_with_its_records_on_rollback(store: Store) -> None:
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(1)], source="es2")
        tx.checkpoints.save("sch1", "es2", Entity.MARKS, {"revision": 1})
    with pytest.raises(RuntimeError), store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(2)], source="es2")
        tx.checkpoints.save("sch1", "es2", Entity.MARKS, {"revision": 2})
        raise RuntimeError("crash before commit")
    with store.read() as tx:
        assert tx.checkpoints.get("sch1", "es2", Entity.MARKS) == {"revision": 1}
        assert set(tx.records.get(Entity.MARKS, ["mark-1", "mark-2"])) == {"mark-1"}
        assert [c.record_id for c in tx.changes.read(0)] == ["mark-1"]
