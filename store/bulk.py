"""Bulk statements on the hot path: a Core statement compiled once, executed many times.

SQLAlchemy's ``conn.execute(stmt, [dict, ...])`` builds each row's parameters through the
compiled statement's machinery, which costs several times what SQLite takes to write the row.
:class:`BulkStatement` compiles the Core statement once per connection dialect, applies each
column type's own bind processor in a tight loop (so values are stored exactly as SQLAlchemy
would store them and read back through the mapped types) and hands the rows to the driver's
``executemany`` through ``exec_driver_sql``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


class BulkStatement:
    """``stmt`` (an INSERT over ``columns`` of ``table``) ready for fast executemany."""

    def __init__(self, dialect: Dialect, table: Table, stmt: ClauseElement, columns: Sequence[str]):
        compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        self.columns = tuple(columns)
        names = compiled.positiontup if compiled.positional else None
        if names is not None and set(names) != set(columns):
            raise ValueError(f"compiled parameters {names} differ from the columns {columns}")
        self.order: tuple[str, ...] | None = tuple(names) if names is not None else None
        self.processors: dict[str, Processor | None] = {
            name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in columns
        }

    def execute(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        if self.order is not None:
            params: list[Any] = [[row[n] for n in self.order] for row in rows]
            for i, name in enumerate(self.order):
                proc = self.processors[name]
                if proc is not None:
                    last_in: Any = None
                    last_out: Any = None
                    for p in params:
                        v = p[i]
                        if v is None:
                            continue
                        if v is not last_in:  # a value shared by many rows is processed once
                            last_in, last_out = v, proc(v)
                        p[i] = last_out
            conn.exec_driver_sql(self.sql, [tuple(p) for p in params])
        else:
            procs = [(n, p) for n, p in self.processors.items() if p is not None]
            out = []
            for row in rows:
                d = {n: row[n] for n in self.columns}
                for n, p in procs:
                    v = d[n]
                    if v is not None:
                        d[n] = p(v)
                out.append(d)
            conn.exec_driver_sql(self.sql, out)


_CACHE: dict[tuple[str, str, str, tuple[str, ...]], BulkStatement] = {}


def bulk(
    conn: Connection,
    kind: str,
    table: Table,
    columns: Sequence[str],
    build: Callable[[], ClauseElement],
) -> BulkStatement:
    """The cached :class:`BulkStatement` of ``kind`` for this table, dialect and columns."""
    key = (conn.dialect.name, kind, table.name, tuple(columns))
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = BulkStatement(conn.dialect, table, build(), columns)
    return found
