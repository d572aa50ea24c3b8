"""The conflict queue and held runs."""

from __future__ import annotations

import pytest

from core.errors import StoreError
from store import Store


def test_conflicts_add_list_resolve(store: Store) -> None:
    with store.begin() as tx:
        a = tx.conflicts.add(
            "sch1", "es2", "marks", "mark-1", "corrected_mark",
            field="value", base={"value": "4"}, incoming={"value": "5"}, current={"value": "4"},
            policy="manual", detail="mark changed after it was set",
        )  # fmt: skip
        b = tx.conflicts.add("sch1", "o7", "marks", "mark-2", "late_mark")
        tx.conflicts.add("sch2", "o7", "marks", "mark-3", "deleted_mark")
    with store.begin() as tx:
        assert [c.id for c in tx.conflicts.find(school_id="sch1")] == [a, b]
        assert [c.id for c in tx.conflicts.find(record_id="mark-2")] == [b]
        tx.conflicts.resolve(a, "keep_current", by="zam")
        with pytest.raises(StoreError, match="already resolved"):
            tx.conflicts.resolve(a, "take_incoming", by="zam")
    with store.read() as tx:
        got = tx.conflicts.get(a)
        assert [c.id for c in tx.conflicts.find(school_id="sch1")] == [b]
        assert tx.conflicts.get(999_999) is None
    assert got is not None
    assert (got.status, got.resolution, got.resolved_by) == ("resolved", "keep_current", "zam")
    assert (got.base, got.incoming, got.field, got.detail) == (
        {"value": "4"},
        {"value": "5"},
        "value",
        "mark changed after it was set",
    )


def test_holds_wait_for_a_decision(store: Store) -> None:
    with store.begin() as tx:
        run = tx.runs.start("sch1", "asiou", "pull")
        h = tx.holds.add("sch1", "asiou", "pupils disappear", {"pupils_left": 120}, run_id=run)
        other = tx.holds.add("sch1", "asiou", "period closed", {})
    with store.begin() as tx:
        assert [x.id for x in tx.holds.find(school_id="sch1")] == [h, other]
        tx.holds.decide(h, approve=True, by="admin")
        tx.holds.decide(other, approve=False, by="admin")
        with pytest.raises(StoreError, match="already decided"):
            tx.holds.decide(h, approve=False, by="admin")
    with store.read() as tx:
        assert tx.holds.find() == []
        got = tx.holds.get(h)
        assert got is not None and got.summary == {"pupils_left": 120} and got.run_id == run
        assert got.status == "approved"
        dropped = tx.holds.get(other)
        assert dropped is not None and dropped.status == "discarded"
