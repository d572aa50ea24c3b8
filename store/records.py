"""Canonical records in the store: bulk upsert with audit and change log, soft delete, reads.

Every applied change gets one change-log row (position, op, version, source, actor, run, time;
a ``delete`` — a feed tombstone — also carries the record's natural key, see
:data:`store.codec.NATURAL_KEYS`). The history is kept compact:

* **create** — its change-log row is its audit record (which system or user, which run, when);
  no audit row is written: the record's row holds the created content until the next change,
  whose audit row carries it as ``old``. (A million new marks thus cost a million change-log
  rows, not two million history rows.)
* **update** — one audit row; ``old``/``new`` hold only the content fields that changed (an
  undelete also shows ``deleted_at`` going from its timestamp to null);
* **delete** — one audit row; ``old`` is the whole content, ``new`` is null (the row stays,
  soft-deleted).

Walking the audit rows backwards from the current row therefore rebuilds every version.
An unchanged record (same content hash, not deleted) writes nothing at all; a change in
``modified_at`` alone is not a change of content.

A record's ``ext_ids`` are not stored on its row: the identity map is their one source (a link
made by a pull, a push or a person is seen at once by every reader), and every read here —
:meth:`RecordsRepo.get`, :meth:`~RecordsRepo.record_states`, :meth:`~RecordsRepo.iter` — fills
them from it in one lookup per chunk. (Keeping a copy on the row in step would cost a write of
every matched record when a second system links it, and a copy that fell behind once — pushes
linked records without it — is how the record and the identity map came to disagree.)
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Table, and_, bindparam, exists, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from core.entities import Entity
from core.errors import StoreError
from mapping.model import Record
from store import changelog
from store.bulk import bulk, upsert_statement
from store.codec import CODECS, Codec
from store.identity import ext_ids_by_gid
from store.params import byte_order, none_of, one_of
from store.repo import Repo
from store.tables import ROWS, table
from store.tables.gateway import AuditRow, IdentityRow
from store.types import utcnow

AUDIT = table(AuditRow)
_IDENTITY = table(IdentityRow)
#: records per statement; a chunk's ids fit in one IN list on both engines
CHUNK = 20_000
#: ids to leave out of :meth:`RecordsRepo.ids_in_scope` sent in its query; more are left out here
EXCLUDED_IN_QUERY = 5_000


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: ids of the records created or updated, in input order
    ids_changed: tuple[str, ...] = ()


def table_of(entity: Entity) -> Table:
    return table(ROWS[entity])


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


_AUDIT_COLUMNS = (
    "school_id", "entity", "record_id", "op", "old", "new", "source", "actor", "at", "run_id"
)  # fmt: skip


def _insert_audit(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    bulk(conn, "insert", AUDIT, _AUDIT_COLUMNS, lambda: insert(AUDIT)).execute(conn, rows)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic collector: a bulk write makes millions of acyclic objects, and the
    collector would otherwise walk the whole heap again and again while they are made."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class RecordsRepo(Repo):
    """Canonical records (``tx.records``): bulk upsert with audit and change log, soft delete,
    reads by id, by field and by scope."""

    def __init__(self, conn: Connection, changes: changelog.PendingChanges) -> None:
        super().__init__(conn)
        #: this unit's change-log entries, written with their positions when it commits
        self.changes = changes

    def upsert(
        self,
        entity: Entity,
        records: Sequence[Record],
        *,
        source: str,
        actor: str = "",
        run_id: int | None = None,
    ) -> UpsertCounts:
        """Insert new records and update changed ones; unchanged records write nothing."""
        codec = CODECS[entity]
        by_id: dict[str, Record] = {}
        for rec in records:
            if rec.entity is not entity:
                raise StoreError(f"{rec.entity} record {rec.id} given to an upsert of {entity}")
            by_id[rec.id] = rec
        unique = list(by_id.values())
        created = updated = unchanged = 0
        changed: list[str] = []
        now = utcnow()
        with _no_gc():
            for start in range(0, len(unique), CHUNK):
                c, u, n, ids = self._upsert_chunk(
                    codec, unique[start : start + CHUNK], source, actor, run_id, now
                )
                created += c
                updated += u
                unchanged += n
                changed.extend(ids)
        return UpsertCounts(created, updated, unchanged, tuple(changed))

    def _upsert_chunk(
        self,
        codec: Codec,
        chunk: Sequence[Record],
        source: str,
        actor: str,
        run_id: int | None,
        now: dt.datetime,
    ) -> tuple[int, int, int, list[str]]:
        table = table_of(codec.entity)
        encode = codec.encoder
        encoded = [encode(r) for r in chunk]
        existing = self._states(table, [row["id"] for row, _ in encoded])
        writes: list[dict[str, Any]] = []
        updates: dict[str, Any] = {}  # id → its stored deleted_at
        for row, digest in encoded:
            old = existing.get(row["id"])
            if old is not None and old[3] != row["school_id"]:
                # never one school's record written over another's: identity links are kept
                # per school, so no pull reaches here; a caller that mixed schools up would
                raise StoreError(
                    f"{codec.entity} {row['id']} belongs to school {old[3]}, not "
                    f"{row['school_id']}: refused, the record stays as it was"
                )
            if old is None:
                row["version"] = 1
            elif old[0] == digest and old[2] is None:
                continue
            else:
                row["version"] = old[1] + 1
                updates[row["id"]] = old[2]
            row["content_hash"] = digest
            row["deleted_at"] = None
            writes.append(row)
        if not writes:
            return 0, 0, len(chunk), []
        old_rows = self._rows(table, list(updates)) if updates else {}
        columns = list(writes[0])
        # records new to the store go in as plain inserts (PostgreSQL takes them by COPY, see
        # store.bulk); an id read as absent above is a freshly minted gateway id, and should one
        # exist after all, the unit fails on the key rather than overwrite a record unread
        fresh = [row for row in writes if row["id"] not in updates]
        if fresh:
            bulk(self.conn, "insert", table, columns, lambda: insert(table)).execute(
                self.conn, fresh
            )
        if updates:
            bulk(
                self.conn,
                "upsert",
                table,
                columns,
                lambda: upsert_statement(self.conn, table, columns, key=("id",)),
            ).execute(self.conn, [row for row in writes if row["id"] in updates])

        entity = codec.entity.value
        self.changes.written(
            changelog.Written(
                entity=table.name,
                ids=[row["id"] for row in writes],
                versions=[row["version"] for row in writes],
                schools=[row["school_id"] for row in writes],
                source=source,
                actor=actor,
                run_id=run_id,
                at=now,
            )
        )
        audits: list[dict[str, Any]] = []
        for row in writes if updates else ():
            rid = row["id"]
            if rid not in updates:
                continue
            before = codec.row_content(old_rows[rid])
            after = codec.row_content(row)
            old_doc = {f: before[f] for f in after if before[f] != after[f]}
            new_doc: dict[str, Any] = {f: after[f] for f in old_doc}
            if updates[rid] is not None:
                old_doc["deleted_at"] = _iso(updates[rid])
                new_doc["deleted_at"] = None
            audits.append(
                {
                    "school_id": row["school_id"],
                    "entity": entity,
                    "record_id": rid,
                    "op": "update",
                    "old": old_doc,
                    "new": new_doc,
                    "source": source,
                    "actor": actor,
                    "at": now,
                    "run_id": run_id,
                }
            )
        _insert_audit(self.conn, audits)
        n_updates = len(updates)
        return (
            len(writes) - n_updates,
            n_updates,
            len(chunk) - len(writes),
            [w["id"] for w in writes],
        )

    def states(self, entity: Entity, ids: Sequence[str]) -> dict[str, tuple[str, int, bool]]:
        """``id → (content_hash, version, deleted)`` of the stored records among ``ids``, live or
        soft-deleted: what a planner needs to know before it needs the records themselves."""
        table = table_of(entity)
        out: dict[str, tuple[str, int, bool]] = {}
        for start in range(0, len(ids), CHUNK):
            found = self._states(table, ids[start : start + CHUNK])
            out.update({rid: (h, v, d is not None) for rid, (h, v, d, _) in found.items()})
        return out

    def _states(self, table: Table, ids: Sequence[str]) -> dict[str, tuple[str, int, Any, str]]:
        """``id → (content_hash, version, deleted_at, school_id)`` of stored rows: one SELECT.

        On SQLite the ids travel as one JSON array (``json_each``) rather than thousands of
        bound parameters; ``deleted_at`` then comes back as its stored text, which is all a
        caller needs (whether it is set, and its value for the audit)."""
        if self.conn.dialect.name == "sqlite":
            name = self.conn.dialect.identifier_preparer.format_table(table)
            sql = (
                f"SELECT m.id, m.content_hash, m.version, m.deleted_at, m.school_id "
                f"FROM json_each(?) AS j JOIN {name} AS m ON m.id = j.value"
            )
            found = self.conn.exec_driver_sql(sql, (json.dumps(list(ids)),))
            return {rid: (h, v, d, s) for rid, h, v, d, s in found}
        c = table.c
        stmt = select(c.id, c.content_hash, c.version, c.deleted_at, c.school_id).where(
            c.id.in_(ids)
        )
        return {rid: (h, v, d, s) for rid, h, v, d, s in self.conn.execute(stmt)}

    def _rows(
        self, table: Table, ids: Sequence[str], *, live_only: bool = False
    ) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), CHUNK):
            stmt = select(table).where(one_of(self.conn, table.c.id, ids[start : start + CHUNK]))
            if live_only:
                stmt = stmt.where(table.c.deleted_at.is_(None))
            for row in self.conn.execute(stmt):
                m = dict(row._mapping)
                out[m["id"]] = m
        return out

    def delete(
        self,
        entity: Entity,
        ids: Iterable[str],
        *,
        source: str,
        actor: str = "",
        run_id: int | None = None,
    ) -> int:
        """Soft-delete live records: each gets an audit row and a change-log tombstone."""
        codec = CODECS[entity]
        table = table_of(entity)
        rows = self._rows(table, list(dict.fromkeys(ids)), live_only=True)
        if not rows:
            return 0
        now = utcnow()
        c = table.c
        self.conn.execute(
            update(table)
            .where(c.id == bindparam("b_id"))
            .values(deleted_at=now, version=bindparam("b_version")),
            [{"b_id": rid, "b_version": row["version"] + 1} for rid, row in rows.items()],
        )
        changes, audits = [], []
        for rid, row in rows.items():
            content = codec.row_content(row)
            base = {"school_id": row["school_id"], "entity": entity.value, "record_id": rid}
            changes.append(
                base
                | {
                    "op": "delete",
                    "natural_key": codec.key_of(content),
                    "version": row["version"] + 1,
                    "source": source,
                    "actor": actor,
                    "run_id": run_id,
                    "at": now,
                }
            )
            audits.append(
                base
                | {
                    "op": "delete",
                    "old": content,
                    "new": None,
                    "source": source,
                    "actor": actor,
                    "at": now,
                    "run_id": run_id,
                }
            )
        self.changes.rows(changes)
        _insert_audit(self.conn, audits)
        return len(rows)

    def get(
        self, entity: Entity, ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, Record]:
        """Canonical records rebuilt from their rows (live ones unless asked otherwise)."""
        codec = CODECS[entity]
        rows = self._rows(table_of(entity), list(ids), live_only=not include_deleted)
        links = ext_ids_by_gid(self.conn, entity, rows) if rows else {}
        return {rid: codec.decode(row, links.get(rid)) for rid, row in rows.items()}

    def fields_of(
        self, entity: Entity, ids: Iterable[str], fields: Sequence[str]
    ) -> dict[str, tuple[Any, ...]]:
        """``id → (values of fields)`` of the live records among ``ids``: a few columns, without
        rebuilding whole records."""
        table = table_of(entity)
        c = table.c
        wanted = list(ids)
        out: dict[str, tuple[Any, ...]] = {}
        for start in range(0, len(wanted), CHUNK):
            stmt = select(c.id, *(c[f] for f in fields)).where(
                one_of(self.conn, c.id, wanted[start : start + CHUNK]), c.deleted_at.is_(None)
            )
            out.update({row[0]: tuple(row[1:]) for row in self.conn.execute(stmt)})
        return out

    def fields_in_school(
        self, entity: Entity, school_id: str, fields: Sequence[str]
    ) -> dict[str, tuple[Any, ...]]:
        """``id → (values of fields)`` of every live record of the school."""
        c = table_of(entity).c
        stmt = select(c.id, *(c[f] for f in fields)).where(
            c.school_id == school_id, c.deleted_at.is_(None)
        )
        return {row[0]: tuple(row[1:]) for row in self.conn.execute(stmt)}

    def hashes(self, entity: Entity, ids: Iterable[str]) -> dict[str, tuple[str, int]]:
        """``id → (content_hash, version)`` of the live records among ``ids``."""
        return {
            rid: (h, v)
            for rid, (h, v) in self.fields_of(entity, ids, ("content_hash", "version")).items()
        }

    def versions(self, entity: Entity, ids: Iterable[str]) -> dict[str, int]:
        table = table_of(entity)
        wanted = list(dict.fromkeys(ids))
        out: dict[str, int] = {}
        for start in range(0, len(wanted), CHUNK):
            stmt = select(table.c.id, table.c.version).where(
                one_of(self.conn, table.c.id, wanted[start : start + CHUNK])
            )
            out.update({a: b for a, b in self.conn.execute(stmt)})
        return out

    def record_states(
        self, entity: Entity, ids: Iterable[str]
    ) -> dict[str, tuple[Record | None, int]]:
        """``id → (record, version)``; the record is None when it is soft-deleted."""
        codec = CODECS[entity]
        table = table_of(entity)
        wanted = list(dict.fromkeys(ids))
        out: dict[str, tuple[Record | None, int]] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            stmt = select(table).where(one_of(self.conn, table.c.id, chunk))
            rows = [r._mapping for r in self.conn.execute(stmt)]
            live = [m["id"] for m in rows if m["deleted_at"] is None]
            links = ext_ids_by_gid(self.conn, entity, live) if live else {}
            for m in rows:
                rec = None if m["deleted_at"] is not None else codec.decode(m, links.get(m["id"]))
                out[m["id"]] = (rec, m["version"])
        return out

    def ids_in_scope(
        self,
        entity: Entity,
        school_id: str,
        *,
        linked_to: str | None = None,
        excluding: Collection[str] = (),
        **filters: Any,
    ) -> set[str]:
        """Ids of the school's live records matching ``filters``.

        A filter named after a column matches it (a list, tuple or set matches any of its values);
        ``date_from``/``date_to`` bound the record's ``date`` — for marks and attendance, the date
        of their lesson — and for those two ``class_id`` and ``subject_id`` are their lesson's.
        ``linked_to``: only records that system has an id for; ``excluding``: ids left out — in
        the query when they are few (a window's), else subtracted here from the ids read in
        batches: a whole snapshot's ids sent to the database would cost their JSON text and the
        database's index of it, on top of the set held (issue 19: a pull's memory stays flat).
        """
        streamed = len(excluding) > EXCLUDED_IN_QUERY
        stmt = self._in_scope(
            entity, school_id, linked_to, filters, () if streamed else list(excluding)
        )
        if not streamed:
            return set(self.conn.execute(stmt).scalars())
        left_out = excluding if isinstance(excluding, set | frozenset) else set(excluding)
        # the options go on the statement: on the connection they would stay for every later
        # statement of the unit (a server-side cursor for an INSERT is an error on PostgreSQL)
        rows = self.conn.execute(stmt.execution_options(yield_per=CHUNK))
        return {i for i in rows.scalars() if i not in left_out}

    def iter_ids_in_scope(
        self, entity: Entity, school_id: str, *, linked_to: str | None = None, **filters: Any
    ) -> Iterator[str]:
        """The ids of :meth:`ids_in_scope`, streamed in id order — byte order on every engine
        (``COLLATE "C"`` on PostgreSQL), the order of Python's ``str`` comparison — so that a
        caller can merge them with ids of its own held sorted."""
        stmt = self._in_scope(entity, school_id, linked_to, filters, ())
        key = byte_order(self.conn, table_of(entity).c.id)
        rows = self.conn.execute(stmt.order_by(key).execution_options(yield_per=CHUNK))
        yield from rows.scalars()

    def _in_scope(
        self,
        entity: Entity,
        school_id: str,
        linked_to: str | None,
        filters: dict[str, Any],
        excluding: Sequence[str],
    ) -> Select[Any]:
        table = table_of(entity)
        via_lesson = "lesson_id" in table.c
        lessons = table_of(Entity.LESSONS)
        conds: list[ColumnElement[bool]] = [
            table.c.school_id == school_id,
            table.c.deleted_at.is_(None),
        ]
        joined = False
        for name, value in filters.items():
            if name in ("date_from", "date_to"):
                target = lessons.c.date if via_lesson else table.c.get("date")
                joined |= via_lesson
            elif via_lesson and name in ("class_id", "subject_id", "subgroup_id"):
                target = lessons.c[name]
                joined = True
            else:
                target = table.c.get(name)
            if target is None:
                raise StoreError(f"{entity} has no filter {name!r}")
            if name == "date_from":
                conds.append(target >= value)
            elif name == "date_to":
                conds.append(target <= value)
            elif isinstance(value, list | tuple | set | frozenset):
                conds.append(target.in_(list(value)))
            else:
                conds.append(target == value)
        if excluding:
            conds.append(none_of(self.conn, table.c.id, list(excluding)))
        if linked_to is not None:
            ident = _IDENTITY.c
            conds.append(
                exists().where(
                    ident.gateway_id == table.c.id,
                    ident.system == linked_to,
                    ident.entity == entity.value,
                )
            )
        stmt = select(table.c.id)
        if joined:
            stmt = stmt.join(lessons, lessons.c.id == table.c.lesson_id)
        return stmt.where(and_(*conds))

    def iter(self, entity: Entity, school_id: str, *, batch: int = 2000) -> Iterator[Record]:
        """Every live record of the school, streamed in id order."""
        codec = CODECS[entity]
        table = table_of(entity)
        stmt = (
            select(table)
            .where(table.c.school_id == school_id, table.c.deleted_at.is_(None))
            .order_by(table.c.id)
            .execution_options(yield_per=batch)
        )
        rows: list[Any] = []
        for row in self.conn.execute(stmt):
            rows.append(row._mapping)
            if len(rows) >= batch:
                yield from self._decoded(codec, rows)
                rows = []
        yield from self._decoded(codec, rows)

    def _decoded(self, codec: Codec, rows: Sequence[Any]) -> Iterator[Record]:
        links = ext_ids_by_gid(self.conn, codec.entity, (m["id"] for m in rows)) if rows else {}
        for m in rows:
            yield codec.decode(m, links.get(m["id"]))

    def count(self, entity: Entity, *, school_id: str | None = None) -> int:
        from sqlalchemy import func

        table = table_of(entity)
        stmt = select(func.count()).select_from(table).where(table.c.deleted_at.is_(None))
        if school_id is not None:
            stmt = stmt.where(table.c.school_id == school_id)
        return int(self.conn.execute(stmt).scalar_one())
