"""The change log: positions handed out in commit order, read back by cursor.

A writer takes its positions from the one-row ``change_seq`` counter with an ``UPDATE`` at its
first change. On PostgreSQL that row lock is held until the transaction ends, so a later writer
gets later positions only after the earlier one has committed (or rolled back, leaving a gap that
nobody has seen). A reader following ``position > cursor`` therefore never sees a position appear
behind one it already read. SQLite serialises writers by itself.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, String, Table, bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY

from store.bulk import bulk
from store.repo import Repo
from store.tables import table
from store.tables.gateway import ChangeRow, ChangeSeqRow
from store.types import UTCDateTime

_SEQ = table(ChangeSeqRow)
CHANGES = table(ChangeRow)
_STAMP = UTCDateTime()
_COLUMNS = (
    "position", "school_id", "entity", "record_id", "op", "natural_key", "version", "source",
    "actor", "run_id", "at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the change log; a ``delete`` is a tombstone carrying ``natural_key``."""

    position: int
    school_id: str
    entity: str
    record_id: str
    op: str
    natural_key: dict[str, Any] | None
    version: int
    source: str
    actor: str
    run_id: int | None
    at: dt.datetime


def lock(conn: Connection) -> None:
    """Take the position counter's row lock (PostgreSQL) until the transaction ends."""
    if conn.dialect.name != "sqlite":  # SQLite: BEGIN IMMEDIATE already serialises writers
        conn.execute(update(_SEQ).where(_SEQ.c.id == 1).values(last=_SEQ.c.last))


def allocate(conn: Connection, n: int) -> int:
    """Reserve ``n`` positions; returns the first. Locks the counter row until commit."""
    stmt = update(_SEQ).where(_SEQ.c.id == 1).values(last=_SEQ.c.last + n).returning(_SEQ.c.last)
    last = conn.execute(stmt).scalar_one()
    return int(last) - n + 1


def append(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert change-log rows (without positions) with positions from :func:`allocate`."""
    if not rows:
        return
    first = allocate(conn, len(rows))
    for i, row in enumerate(rows):
        row["position"] = first + i
    bulk(conn, "insert", CHANGES, _COLUMNS, lambda: insert(CHANGES)).execute(conn, rows)


_WRITTEN_SQLITE = """
INSERT INTO change_log (position, school_id, entity, record_id, op, natural_key, version, source,
                        actor, run_id, at)
SELECT ? + j.key, m.school_id, ?, m.id, CASE WHEN m.version = 1 THEN 'create' ELSE 'update' END,
       NULL, m.version, ?, ?, ?, ?
FROM json_each(?) AS j JOIN {table} AS m ON m.id = j.value
"""
_WRITTEN_POSTGRES = """
INSERT INTO change_log (position, school_id, entity, record_id, op, natural_key, version, source,
                        actor, run_id, at)
SELECT :first + j.n - 1, m.school_id, :entity, m.id,
       CASE WHEN m.version = 1 THEN 'create' ELSE 'update' END,
       NULL, m.version, :source, :actor, :run_id, :at
FROM unnest(CAST(:ids AS text[])) WITH ORDINALITY AS j(id, n) JOIN {table} AS m ON m.id = j.id
"""


def append_written(
    conn: Connection,
    table: Table,
    ids: Sequence[str],
    *,
    source: str,
    actor: str,
    run_id: int | None,
    at: dt.datetime,
) -> None:
    """One change-log row per record of ``table`` just written: ``create`` at version 1, else
    ``update``; positions in the order of ``ids``. The rows are made by the database from the
    records' rows, in one statement, rather than sent one by one."""
    if not ids:
        return
    first = allocate(conn, len(ids))
    name = conn.dialect.identifier_preparer.format_table(table)
    if conn.dialect.name == "sqlite":
        stamp = _STAMP.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        assert stamp is not None
        params = (first, table.name, source, actor, run_id, stamp(at), json.dumps(list(ids)))
        conn.exec_driver_sql(_WRITTEN_SQLITE.format(table=name), params)
        return
    stmt = text(_WRITTEN_POSTGRES.format(table=name)).bindparams(
        bindparam("at", type_=_STAMP), bindparam("ids", type_=ARRAY(String()))
    )
    conn.execute(
        stmt,
        {
            "first": first,
            "entity": table.name,
            "source": source,
            "actor": actor,
            "run_id": run_id,
            "at": at,
            "ids": list(ids),
        },
    )


def read_changes(
    conn: Connection, after: int, limit: int = 1000, school_id: str | None = None
) -> list[Change]:
    stmt = select(CHANGES).where(CHANGES.c.position > after)
    if school_id is not None:
        stmt = stmt.where(CHANGES.c.school_id == school_id)
    stmt = stmt.order_by(CHANGES.c.position).limit(limit)
    return [Change(**row._mapping) for row in conn.execute(stmt)]


def last_position(conn: Connection) -> int:
    return int(conn.execute(select(_SEQ.c.last).where(_SEQ.c.id == 1)).scalar_one())


class ChangesRepo(Repo):
    """The change log read by cursor (``tx.changes``)."""

    def read(self, after: int, limit: int = 1000, school_id: str | None = None) -> list[Change]:
        """Entries after position ``after``, in position order."""
        return read_changes(self.conn, after, limit, school_id)

    def last_position(self) -> int:
        return last_position(self.conn)
