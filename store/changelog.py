"""The change log: positions handed out in commit order, read back by cursor.

A unit of work collects its change-log entries as it writes records (:class:`PendingChanges`) and
writes them when it commits (on SQLite also along the way, every :data:`SPILL_AT` rows of a long
unit), taking their positions from the one-row ``change_seq`` counter with an ``UPDATE`` at that
moment. On PostgreSQL that row lock is held until the transaction ends, so a
later writer gets later positions only after the earlier one has committed (or rolled back,
leaving a gap that nobody has seen). A reader following ``position > cursor`` therefore never
sees a position appear behind one it already read. SQLite serialises writers by itself.

The lock is taken last: a unit holds it only while it writes its change-log rows and commits, so
units of different schools (two workers, two systems) write their records side by side instead
of one after the other, and a unit waiting for another's record rows never holds it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Integer, String, bindparam, insert, select, text, update
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


def allocate(conn: Connection, n: int) -> int:
    """Reserve ``n`` positions; returns the first. Locks the counter row until commit."""
    stmt = update(_SEQ).where(_SEQ.c.id == 1).values(last=_SEQ.c.last + n).returning(_SEQ.c.last)
    last = conn.execute(stmt).scalar_one()
    return int(last) - n + 1


_WRITTEN_SQLITE = """
INSERT INTO change_log (position, school_id, entity, record_id, op, natural_key, version, source,
                        actor, run_id, at)
SELECT ? + j.key, json_extract(j.value, '$[2]'), ?, json_extract(j.value, '$[0]'),
       CASE WHEN json_extract(j.value, '$[1]') = 1 THEN 'create' ELSE 'update' END,
       NULL, json_extract(j.value, '$[1]'), ?, ?, ?, ?
FROM json_each(?) AS j
"""
_WRITTEN_POSTGRES = """
INSERT INTO change_log (position, school_id, entity, record_id, op, natural_key, version, source,
                        actor, run_id, at)
SELECT :first + j.n - 1, j.school_id, :entity, j.id,
       CASE WHEN j.version = 1 THEN 'create' ELSE 'update' END,
       NULL, j.version, :source, :actor, :run_id, :at
FROM unnest(CAST(:ids AS text[]), CAST(:versions AS integer[]), CAST(:schools AS text[]))
     WITH ORDINALITY AS j(id, version, school_id, n)
"""


@dataclass(frozen=True, slots=True)
class Written:
    """Records of one table just written: ``create`` at version 1, else ``update``."""

    entity: str
    ids: list[str]
    versions: list[int]
    schools: list[str]
    source: str
    actor: str
    run_id: int | None
    at: dt.datetime

    def __len__(self) -> int:
        return len(self.ids)


#: change-log rows a unit holds before it writes them (SQLite only; see :class:`PendingChanges`)
SPILL_AT = 20_000


class PendingChanges:
    """The change-log entries of one unit of work, in the order they were made, written with
    their positions when the unit commits (:meth:`flush`). A savepoint that rolls back drops
    what was added inside it (:meth:`mark`, :meth:`drop_after`).

    ``spill_to``: a connection on which entries are written before the unit commits, once more
    than ``spill_at`` rows are held — so a long unit (a whole АСИОУ package) does not hold a row
    per record until its end. Only on SQLite: it has one writer at a time (the unit holds the
    write lock from its ``BEGIN IMMEDIATE``), so positions taken early still follow commit order.
    On PostgreSQL (``None``) the position lock is taken last, as the module says."""

    def __init__(self, spill_to: Connection | None = None, *, spill_at: int | None = None) -> None:
        self._entries: list[Written | list[dict[str, Any]]] = []
        self._spill_to = spill_to
        self._spill_at = SPILL_AT if spill_at is None else spill_at
        #: rows held in ``_entries``
        self._held = 0
        #: entries written before the unit's end (they precede ``_entries``)
        self._written = 0

    def written(self, entry: Written) -> None:
        if entry.ids:
            self._hold(entry)

    def rows(self, rows: list[dict[str, Any]]) -> None:
        """Whole change-log rows (without positions): tombstones."""
        if rows:
            self._hold(rows)

    def _hold(self, entry: Written | list[dict[str, Any]]) -> None:
        self._entries.append(entry)
        self._held += len(entry)
        if self._spill_to is not None and self._held > self._spill_at:
            self.flush(self._spill_to)

    def mark(self) -> int:
        return self._written + len(self._entries)

    def drop_after(self, mark: int) -> None:
        """Forget the entries added after ``mark`` (their savepoint rolled back). Entries
        written since then were written inside that savepoint: the database dropped them."""
        if mark >= self._written:
            del self._entries[mark - self._written :]
        else:
            self._entries.clear()
            self._written = mark
        self._held = sum(len(e) for e in self._entries)

    def __len__(self) -> int:
        return self._held

    def flush(self, conn: Connection) -> None:
        """Write every entry, positions in order; takes the position lock until commit."""
        if not self._entries:
            return
        position = allocate(conn, len(self))
        for entry in self._entries:
            if isinstance(entry, Written):
                _insert_written(conn, position, entry)
            else:
                for i, row in enumerate(entry):
                    row["position"] = position + i
                bulk(conn, "insert", CHANGES, _COLUMNS, lambda: insert(CHANGES)).execute(
                    conn, entry
                )
            position += len(entry)
        self._written += len(self._entries)
        self._entries.clear()
        self._held = 0


def _insert_written(conn: Connection, first: int, w: Written) -> None:
    """One change-log row per record, made by the database from arrays of ids, versions and
    schools in one statement rather than sent row by row."""
    if conn.dialect.name == "sqlite":
        stamp = _STAMP.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        assert stamp is not None
        triples = json.dumps(list(zip(w.ids, w.versions, w.schools, strict=True)))
        params = (first, w.entity, w.source, w.actor, w.run_id, stamp(w.at), triples)
        conn.exec_driver_sql(_WRITTEN_SQLITE, params)
        return
    stmt = text(_WRITTEN_POSTGRES).bindparams(
        bindparam("at", type_=_STAMP),
        bindparam("ids", type_=ARRAY(String())),
        bindparam("versions", type_=ARRAY(Integer())),
        bindparam("schools", type_=ARRAY(String())),
    )
    conn.execute(
        stmt,
        {
            "first": first,
            "entity": w.entity,
            "source": w.source,
            "actor": w.actor,
            "run_id": w.run_id,
            "at": w.at,
            "ids": w.ids,
            "versions": w.versions,
            "schools": w.schools,
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
