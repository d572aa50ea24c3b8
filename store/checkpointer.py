"""WAL checkpoints on a thread of their own (SQLite).

In WAL mode a commit appends pages to the ``-wal`` file; a *checkpoint* copies them back into the
database file. SQLite by default runs one inside whichever commit finds the WAL past 1,000 pages,
so that commit also copies (and syncs) everything written since the last one — on a first sync
that is a few seconds of the committing thread's time. Here the store's connections leave
checkpoints to a :class:`Checkpointer`: after a commit it runs a ``PASSIVE`` checkpoint from its
own connection on its own thread, where SQLite does the copying without the GIL; a passive
checkpoint never blocks readers or writers. Durability is as before: a committed transaction is in
the WAL, whether or not it has been copied yet; a store reopened after a crash replays the WAL.
"""

from __future__ import annotations

import sqlite3
import threading

import structlog

log = structlog.get_logger("store.checkpointer")

#: after a commit, wait this long for more commits before copying (a sync commits every unit)
SETTLE_S = 0.2


class Checkpointer:
    def __init__(self, path: str) -> None:
        self._path = path
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._committed = False
        self._thread = threading.Thread(
            target=self._run, name="schoolgate-checkpointer", daemon=True
        )
        self._thread.start()

    def notify(self) -> None:
        """A commit happened: checkpoint soon."""
        self._committed = True
        self._wake.set()

    def close(self) -> None:
        """Copy what is left, then stop."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        while True:
            self._wake.wait()
            if not self._stop.is_set():
                self._stop.wait(SETTLE_S)
            self._wake.clear()
            if not self._committed:  # closed before anything was written
                return
            try:
                if conn is None:  # opened once something was committed: the file exists
                    conn = sqlite3.connect(self._path, isolation_level=None)
                    conn.execute("PRAGMA busy_timeout=5000")
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:  # tried again after the next commit
                log.warning("wal checkpoint failed", error=type(exc).__name__)
                if conn is not None:
                    conn.close()
                conn = None
            if self._stop.is_set():
                if conn is not None:
                    conn.close()
                return
