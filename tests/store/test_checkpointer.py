"""WAL checkpoints run off the committing thread, and the store stays consistent."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

from core.entities import Entity
from store import Store
from tests.store.conftest import mark


def _rows_in_main_file(path: Path, scratch: Path) -> int:
    """Marks in the database file alone — what has been checkpointed out of the WAL. Read from
    a copy of the file without its WAL, so that looking changes nothing. A copy taken while the
    checkpointer is writing pages may be torn: that counts as "not yet" (-1)."""
    shutil.copyfile(path, scratch)
    try:
        with sqlite3.connect(scratch) as db:
            found = db.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'marks'"
            ).fetchone()[0]
            return int(db.execute("SELECT count(*) FROM marks").fetchone()[0]) if found else -1
    except sqlite3.DatabaseError:
        return -1


def test_commits_do_not_checkpoint_but_the_checkpointer_does(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store.open(f"sqlite:///{path}")
    store.upgrade()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [mark(n) for n in range(5000)], source="es2")
    seen = _rows_in_main_file(path, tmp_path / "copy.db")
    deadline = time.monotonic() + 10
    while seen != 5000 and time.monotonic() < deadline:  # copied shortly after the commit
        time.sleep(0.05)
        seen = _rows_in_main_file(path, tmp_path / "copy.db")
    assert seen == 5000
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM marks").fetchone()[0] == 5000


def test_closing_an_unused_store_creates_no_file(tmp_path: Path) -> None:
    path = tmp_path / "never.db"
    Store.open(f"sqlite:///{path}").close()
    assert not os.path.exists(path)
