"""``tx.matching``: questions a pull asks about a school's records as a whole."""

from __future__ import annotations

from pathlib import Path

from core.entities import Entity
from store import Store
from tests.store.conftest import SCHOOL, mark

OTHER = "sch2"


def _steps(store: Store, ask: str) -> tuple[bool, int]:
    """The answer of ``tx.matching.has_linked`` for the marks of ``ask`` in es2, and about how
    many SQLite virtual-machine steps it took (the progress handler fires every 100)."""
    calls = [0]

    def tick() -> int:
        calls[0] += 1
        return 0

    with store.read() as tx:
        raw = tx.conn.connection.driver_connection
        assert raw is not None
        raw.set_progress_handler(tick, 100)
        try:
            found = tx.matching.has_linked(Entity.MARKS, ask, "es2")
        finally:
            raw.set_progress_handler(None, 0)
    return found, calls[0] * 100


def _school_with_links(store: Store, school: str, n: int, start: int) -> None:
    marks = [mark(i, school=school) for i in range(start, start + n)]
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, marks, source="es2")
        tx.identity.link_agreed(
            school, "es2", Entity.MARKS, [(f"e{m.id}", m.id, None) for m in marks]
        )


def test_has_linked_asks_only_the_schools_own_links(tmp_path: Path) -> None:
    """A school's first read asks whether it has any links: the answer must not walk the links
    of every other school of the store (a region keeps hundreds in one)."""
    costs = {}
    for others in (50, 5_000):
        store = Store.open(f"sqlite:///{tmp_path}/s{others}.db")
        store.upgrade()
        _school_with_links(store, OTHER, others, 0)
        _school_with_links(store, SCHOOL, 0, 0)
        costs[others] = _steps(store, SCHOOL)
        _school_with_links(store, SCHOOL, 3, 100_000)
        assert _steps(store, SCHOOL)[0] is True
        assert _steps(store, OTHER)[0] is True
        store.close()
    assert costs[50][0] is False and costs[5_000][0] is False
    # about the same work whatever the other school holds
    assert costs[5_000][1] <= costs[50][1] + 1_000, costs
