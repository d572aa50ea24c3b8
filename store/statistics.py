"""Fresh planner statistics while a sync fills PostgreSQL tables from empty.

PostgreSQL plans a query by what its statistics say about each table. A school's first sync fills
the record tables, the identity map and the change log from nothing in a few minutes, and
autovacuum — which would analyse them — wakes once a minute and works one table at a time: for
most of the load the planner believes the tables hold a handful of rows and reads them whole for
every page, and the sync grows with the square of the school (issue 11).

:class:`Statistics` counts the rows each committed unit of work inserted into each table (from the
statements themselves, so no table is counted twice and nothing is asked of the database) and,
when a table has grown by as much as it held at its last analysis, analyses it before the next
unit of work begins. A table is therefore analysed about log₂(rows ÷ :data:`MIN_ROWS`) times in a
load — for a large school's marks about nine times, each a sample of at most 30,000 rows.

SQLite needs none of this: its planner does not cost-base a lookup by an indexed column.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any

from sqlalchemy import Connection, Engine, event

#: rows inserted into a table before its statistics are first looked at
MIN_ROWS = 1000
#: analyse again once the rows inserted since the last analysis reach this share of the table
GROWTH = 1.0

_INSERT = re.compile(r'\s*INSERT\s+INTO\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', re.IGNORECASE)
_PENDING = "schoolgate_inserted"
_DUE = "schoolgate_analyse_due"


class Statistics:
    """Keeps the statistics of the tables a process fills fresh (PostgreSQL only).

    Rows are counted as they are inserted. Once a table has grown enough, it is analysed on the
    connection that grew it, just before that connection's next query — inside its unit of work,
    where ``ANALYZE`` counts the unit's own uncommitted rows too: a sync's unit of twenty
    thousand records asks its questions of tables that were empty when it began. The analysis
    takes the table's ``SHARE UPDATE EXCLUSIVE`` lock until the unit ends; when another unit
    holds it (another worker analysing the same table), this one does not wait and analyses
    later."""

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.Lock()
        #: rows inserted and committed since each table's last analysis (by this process)
        self._inserted: Counter[str] = Counter()
        #: rows each table held at its last analysis, once known
        self._size: dict[str, float] = {}
        #: analyses run, per table (for the bench and the tests)
        self.analysed: Counter[str] = Counter()
        #: whether rows other units committed have made a table due (decided once per commit,
        #: so that a query — every query of every connection passes here — checks one flag)
        self.due_committed = False
        event.listen(engine, "after_cursor_execute", self._count)
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "commit", self._committed)
        event.listen(engine, "rollback", self._rolled_back)

    # -- counting ---------------------------------------------------------------------------
    def _count(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        found = _INSERT.match(statement)
        if found is None:
            return
        rows = len(parameters) if executemany else max(cursor.rowcount or 0, 0)
        if rows:
            name = found[1]
            pending: Counter[str] = conn.info.setdefault(_PENDING, Counter())
            pending[name] += rows
            if self._inserted[name] + pending[name] >= self._threshold(name):
                conn.info[_DUE] = True

    def _committed(self, conn: Connection) -> None:
        conn.info.pop(_DUE, None)
        pending = conn.info.pop(_PENDING, None)
        if pending:
            with self._lock:
                self._inserted.update(pending)
            self.due_committed = bool(self._due())

    def _rolled_back(self, conn: Connection) -> None:
        conn.info.pop(_DUE, None)
        conn.info.pop(_PENDING, None)

    def counted(self, name: str) -> int:
        """Rows inserted into table ``name`` and committed since its last analysis here."""
        with self._lock:
            return self._inserted[name]

    def _threshold(self, name: str) -> float:
        return max(MIN_ROWS, GROWTH * self._size.get(name, 0.0))

    def _due(self, pending: Counter[str] | None = None) -> list[str]:
        pending = pending or Counter()
        with self._lock:
            names = set(self._inserted) | set(pending)
            return sorted(
                name
                for name in names
                if self._inserted[name] + pending[name] >= self._threshold(name)
            )

    # -- analysing --------------------------------------------------------------------------
    def _before(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if not (self.due_committed or conn.info.get(_DUE)):
            return
        if executemany or statement.lstrip()[:6].upper() != "SELECT":
            return
        conn.info.pop(_DUE, None)
        pending: Counter[str] | None = conn.info.get(_PENDING)
        due = self._due(pending)
        if due:
            self._analyse(cursor, due, pending or Counter())

    def refresh(self, conn: Connection) -> list[str]:
        """Analyse, on ``conn``, the tables that have grown enough since their last analysis
        (the rows other units committed); the names of those analysed."""
        if not self.due_committed:
            return []
        due = self._due()
        if not due:
            return []
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            return self._analyse(cursor, due, Counter())
        finally:
            cursor.close()

    def _analyse(self, cursor: Any, due: list[str], pending: Counter[str]) -> list[str]:
        unknown = [name for name in due if name not in self._size]
        if unknown:  # a store filled before this process started: ask how big the tables are
            cursor.execute(_SIZES, {"names": unknown})
            sizes = {name: float(rows) for name, rows in cursor.fetchall()}
            with self._lock:
                for name in unknown:
                    self._size[name] = sizes.get(name, 0.0)
            due = self._due(pending)
        done = []
        for name in due:
            cursor.execute(f'SAVEPOINT "{_SAVEPOINT}"')
            try:
                cursor.execute(f'LOCK TABLE "{name}" IN SHARE UPDATE EXCLUSIVE MODE NOWAIT')
            except Exception as exc:  # the driver's own error (psycopg: LockNotAvailable)
                if getattr(exc, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                    raise
                # another unit is analysing it: not now
                cursor.execute(f'ROLLBACK TO SAVEPOINT "{_SAVEPOINT}"')
                continue
            cursor.execute(f'ANALYZE "{name}"')
            cursor.execute(f'RELEASE SAVEPOINT "{_SAVEPOINT}"')
            done.append(name)
        with self._lock:
            for name in done:
                grown = self._inserted.pop(name, 0) + pending.pop(name, 0)
                self._size[name] = self._size.get(name, 0.0) + grown
                self.analysed[name] += 1
        self.due_committed = bool(self._due())
        return done


_SAVEPOINT = "schoolgate_analyse"
#: SQLSTATE of NOWAIT finding the lock taken (read from the driver's error, so that a process on
#: SQLite never loads psycopg)
_LOCK_NOT_AVAILABLE = "55P03"
_SIZES = (
    "SELECT c.relname, greatest(c.reltuples, 0) FROM pg_class c "
    "WHERE c.relname = ANY(%(names)s) AND c.relkind = 'r' "
    "AND c.relnamespace = current_schema()::regnamespace"
)
