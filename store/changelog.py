"""The change log: positions handed out in commit order, read back by cursor.

A writer takes its positions from the one-row ``change_seq`` counter with an ``UPDATE`` at its
first change. On PostgreSQL that row lock is held until the transaction ends, so a later writer
gets later positions only after the earlier one has committed (or rolled back, leaving a gap that
nobody has seen). A reader following ``position > cursor`` therefore never sees a position appear
behind one it already read. SQLite serialises writers by itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from store.bulk import bulk
from store.schema import ChangeRow, ChangeSeqRow
from store.tables import table

_SEQ = table(ChangeSeqRow)
CHANGES = table(ChangeRow)
_COLUMNS = (
    "position", "school_id", "entity", "record_id", "op", "natural_key", "version", "source", "at"
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
    at: dt.datetime


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
