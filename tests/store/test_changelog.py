"""Reading the change log by cursor; positions follow commit order across writers."""

from __future__ import annotations

import threading

import pytest

from core.entities import Entity
from store import Store, changelog
from tests.store.conftest import mark


def test_read_by_cursor_in_pages_and_by_school(store: Store) -> None:
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(i) for i in range(5)], source="es2")
        tx.records.upsert(
            Entity.MARKS, [mark(i, school="sch2") for i in range(10, 13)], source="o7"
        )
        tx.records.delete(Entity.MARKS, ["mark-0"], source="es2")
    seen: list[tuple[str, str]] = []
    cursor = 0
    with store.read() as tx:
        for _ in range(10):  # bounded: 9 changes in pages of 2
            page = tx.changes.read(cursor, limit=2)
            if not page:
                break
            seen += [(c.record_id, c.op) for c in page]
            cursor = page[-1].position
        sch2 = tx.changes.read(0, school_id="sch2")
    assert seen == [
        *((f"mark-{i}", "create") for i in range(5)),
        *((f"mark-{i}", "create") for i in range(10, 13)),
        ("mark-0", "delete"),
    ]
    assert [c.record_id for c in sch2] == ["mark-10", "mark-11", "mark-12"]


def _writer(store: Store, n: int, source: str) -> tuple[threading.Thread, threading.Event, list]:
    done = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with store.begin() as tx:
                tx.records.upsert(Entity.MARKS, [mark(n)], source=source)
        except BaseException as exc:  # pragma: no cover - reported by the test
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=write)
    thread.start()
    return thread, done, errors


def test_units_write_records_side_by_side_and_positions_follow_commits(store: Store) -> None:
    """Unit A writes a record and stays open; unit B writes and commits meanwhile, without
    waiting for A (two workers' syncs are not one after the other). A commits later: its change
    comes after B's, so a reader that has read B's never misses A's."""
    if store.dialect == "sqlite":
        pytest.skip("SQLite has one writer at a time by design (BEGIN IMMEDIATE)")
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(1)], source="es2")
        thread, b_done, b_error = _writer(store, 100, "o7")
        assert b_done.wait(20), "B waited for A, which has not committed"
        with store.read() as reader:
            seen = reader.changes.read(0)
        assert [c.record_id for c in seen] == ["mark-100"]  # B's, not A's (uncommitted)
    thread.join(timeout=30)
    assert not b_error
    with store.read() as reader:
        after = reader.changes.read(seen[-1].position)
    assert [c.record_id for c in after] == ["mark-1"]


def test_a_reader_never_sees_a_position_behind_its_cursor(store: Store) -> None:
    """Unit A has taken its positions (it is committing) when B comes to take its own: B waits
    until A has committed, so B's positions follow A's and a reader that saw B's saw A's."""
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(1)], source="es2")
        tx.pending_changes.flush(tx.conn)  # A's positions taken, A not committed yet
        thread, b_done, b_error = _writer(store, 100, "o7")
        assert not b_done.wait(0.5)  # B is blocked behind A's position lock
        with store.read() as reader:
            assert reader.changes.read(0) == []  # A's change is not visible before commit
    thread.join(timeout=30)
    assert b_done.is_set() and not b_error
    with store.read() as reader:
        order = [(c.record_id, c.position) for c in reader.changes.read(0)]
    assert [r for r, _ in order] == ["mark-1", "mark-100"]
    assert order[0][1] < order[1][1]


def test_a_long_sqlite_unit_writes_its_changes_along_the_way(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit writing many records (a whole АСИОУ package) does not hold a change-log row per
    record until it commits: on SQLite, past ``SPILL_AT`` held rows they are written with their
    positions. A savepoint that rolls back after such a write takes its rows with it; the log
    ends up as if everything had been written at commit."""
    if store.dialect != "sqlite":
        pytest.skip("PostgreSQL takes the position lock last: changes are held to the end")
    monkeypatch.setattr(changelog, "SPILL_AT", 4)
    with store.begin() as tx:
        for n in range(0, 12, 3):
            tx.records.upsert(Entity.MARKS, [mark(i) for i in range(n, n + 3)], source="es2")
            assert len(tx.pending_changes) <= 4
        with pytest.raises(RuntimeError), tx.savepoint():
            tx.records.upsert(Entity.MARKS, [mark(i) for i in range(20, 25)], source="es2")
            assert len(tx.pending_changes) <= 4  # written inside the savepoint
            raise RuntimeError("rolled back")
        tx.records.upsert(Entity.MARKS, [mark(12)], source="es2")
        with pytest.raises(RuntimeError), tx.savepoint():
            tx.records.upsert(Entity.MARKS, [mark(30)], source="es2")  # held, not written
            raise RuntimeError("rolled back")
        with store.read() as reader:
            assert reader.changes.read(0) == []  # nothing visible before the unit commits
    with store.read() as reader:
        log = reader.changes.read(0)
    assert [c.record_id for c in log] == [f"mark-{i}" for i in range(13)]
    first = log[0].position
    assert [c.position for c in log] == list(range(first, first + 13))
