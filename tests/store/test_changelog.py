"""Reading the change log by cursor; positions follow commit order across writers."""

from __future__ import annotations

import threading

from core.entities import Entity
from store import Store
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


def test_a_reader_never_sees_a_position_behind_its_cursor(store: Store) -> None:
    """Writer A takes positions first and commits last: B must wait, so B's positions follow A's."""
    b_done = threading.Event()
    b_error: list[BaseException] = []

    def writer_b() -> None:
        try:
            with store.begin() as tx:
                tx.records.upsert(Entity.MARKS, [mark(100)], source="o7")
        except BaseException as exc:  # pragma: no cover - reported below
            b_error.append(exc)
        finally:
            b_done.set()

    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(1)], source="es2")
        thread = threading.Thread(target=writer_b)
        thread.start()
        # B is blocked behind A's position lock while A is open
        assert not b_done.wait(0.5)
        with store.read() as reader:
            assert reader.changes.read(0) == []  # A's change is not visible before commit
    thread.join(timeout=30)
    assert b_done.is_set() and not b_error
    with store.read() as reader:
        order = [(c.record_id, c.position) for c in reader.changes.read(0)]
    assert [r for r, _ in order] == ["mark-1", "mark-100"]
    assert order[0][1] < order[1][1]
