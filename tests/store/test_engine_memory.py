"""What a store on SQLite holds in memory: one warm page cache, not one per pooled connection."""

from __future__ import annotations

from pathlib import Path

from core.entities import Entity
from store import Store
from tests.store.conftest import mark


def _dbapi(tx: object) -> object:
    return tx.conn.connection.dbapi_connection  # type: ignore[attr-defined]


def test_units_reuse_the_connection_that_was_returned_last(tmp_path: Path) -> None:
    """A pull reads (its checkpoint, the roster) while its unit is open, so the pool holds two
    connections; each fills a page cache of its own (``cache_size``). The next unit takes the
    connection the last one used, so one cache stays warm and the other stays small, instead
    of the units taking turns and filling both."""
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        store.upgrade()
        used = []
        for n in range(4):
            with store.begin() as tx:
                used.append(_dbapi(tx))
                with store.read() as reader:  # a read while the unit is open
                    assert _dbapi(reader) is not used[-1]
                tx.records.upsert(Entity.MARKS, [mark(n)], source="es2")
        assert all(conn is used[0] for conn in used)
    finally:
        store.close()


def test_a_connection_caches_at_most_8_mb_of_pages(tmp_path: Path) -> None:
    """A pull's peak memory (≤ 150 MB, issue 19) has room for one 8 MB page cache: a pull
    writes in time-ordered ids and reads what a page names, and gains nothing measurable from
    a bigger one."""
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with store.begin() as tx:
            (size,) = tx.conn.exec_driver_sql("PRAGMA cache_size").one()
        assert size < 0 and -size * 1024 <= 8 * 2**20  # negative: KiB
    finally:
        store.close()
