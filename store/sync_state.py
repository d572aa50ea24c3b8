"""What the sync engine keeps beside the records: agreements, findings, record states, bases.

- **Agreement**: per (system, record) the content hash the system and the store last agreed on,
  kept on the record's identity-map row (``synced_hash``). It tells a local edit (store moved) from a
  remote one (system moved) and both from a conflict (both moved).
- **Findings**: the conflict queue's rows in bulk, with a ``detail`` and a ``status`` — ``open``
  (held: a person decides), ``noted`` (recorded for the deputy director; applied) or ``rejected``.
- **Base content**: the record as it was at a given hash, rebuilt by walking its audit rows back
  from the current row (audit rows carry the old values of every change).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from core.entities import Entity
from mapping.model import Record
from store.bulk import bulk
from store.codec import CODECS
from store.conflicts import NewFinding
from store.outbox import NewPush
from store.params import one_of
from store.records import AUDIT, CHUNK, table_of
from store.schema import ConflictRow, IdentityRow, OutboxRow, ReviewRow, RunRow
from store.tables import table
from store.types import utcnow

IDENTITY = table(IdentityRow)
CONFLICTS = table(ConflictRow)
OUTBOX = table(OutboxRow)
REVIEW = table(ReviewRow)
_FINDING_COLUMNS = (*(f.name for f in fields(NewFinding)), "created_at")
_LINK_COLUMNS = ("system", "entity", "external_id", "gateway_id", "synced_hash", "created_at")
RUNS = table(RunRow)


class SyncStateRepo:
    conn: Connection

    # -- agreements --------------------------------------------------------------------
    def agreements(self, system: str, entity: Entity, gids: Iterable[str]) -> dict[str, str | None]:
        """``gid → agreed hash`` (None: linked but never agreed) for gids linked in ``system``."""
        return {gid: h for gid, ext, h in self._links(system, entity, gids)}

    def _links(
        self, system: str, entity: Entity, gids: Iterable[str]
    ) -> list[tuple[str, str, str | None]]:
        """``(gid, external id, agreed hash)`` of the gids linked in ``system``. The lookup goes by
        gateway id alone (its own index; a gid has a link or two), system and entity are checked
        here."""
        wanted = list(dict.fromkeys(gids))
        c = IDENTITY.c
        out: list[tuple[str, str, str | None]] = []
        for start in range(0, len(wanted), CHUNK):
            stmt = select(c.gateway_id, c.external_id, c.synced_hash, c.system, c.entity).where(
                one_of(self.conn, c.gateway_id, wanted[start : start + CHUNK])
            )
            out.extend(
                (gid, ext, h)
                for gid, ext, h, sys_, ent in self.conn.execute(stmt)
                if sys_ == system and ent == entity.value
            )
        return out

    def agree(self, system: str, entity: Entity, hashes: Mapping[str, str]) -> None:
        """Record that ``system`` now holds each gid's content with the given hash."""
        if not hashes:
            return
        c = IDENTITY.c
        self.conn.execute(
            update(IDENTITY)
            .where(
                and_(
                    c.system == system,
                    c.entity == entity.value,
                    c.gateway_id == bindparam("b_gid"),
                )
            )
            .values(synced_hash=bindparam("b_hash")),
            [{"b_gid": g, "b_hash": h} for g, h in hashes.items()],
        )

    def link_agreed(
        self, system: str, entity: Entity, rows: Sequence[tuple[str, str, str | None]]
    ) -> None:
        """Insert new links ``(external id, gid, agreed hash)`` in one bulk statement."""
        if not rows:
            return
        now = utcnow()
        bulk(self.conn, "insert", IDENTITY, _LINK_COLUMNS, lambda: insert(IDENTITY)).execute(
            self.conn,
            [
                {
                    "system": system,
                    "entity": entity.value,
                    "external_id": ext,
                    "gateway_id": gid,
                    "synced_hash": h,
                    "created_at": now,
                }
                for ext, gid, h in rows
            ],
        )

    def linked_gids(self, system: str, entity: Entity) -> set[str]:
        c = IDENTITY.c
        stmt = select(c.gateway_id).where(c.system == system, c.entity == entity.value)
        return set(self.conn.execute(stmt).scalars())

    def ext_of(self, system: str, entity: Entity, gids: Iterable[str]) -> dict[str, str]:
        """``gid → external id in system`` for the linked ones."""
        return {gid: ext for gid, ext, _ in self._links(system, entity, gids)}

    # -- record states -----------------------------------------------------------------
    def record_states(
        self, entity: Entity, ids: Iterable[str]
    ) -> dict[str, tuple[Record | None, int]]:
        """``id → (record, version)``; the record is None when it is soft-deleted."""
        codec = CODECS[entity]
        table = table_of(entity)
        wanted = list(dict.fromkeys(ids))
        out: dict[str, tuple[Record | None, int]] = {}
        for start in range(0, len(wanted), CHUNK):
            stmt = select(table).where(one_of(self.conn, table.c.id, wanted[start : start + CHUNK]))
            for row in self.conn.execute(stmt):
                m = row._mapping
                rec = None if m["deleted_at"] is not None else codec.decode(m)
                out[m["id"]] = (rec, m["version"])
        return out

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

    def content_at(self, entity: Entity, record_id: str, content_hash: str) -> Record | None:
        """The record as it was when its content hash was ``content_hash`` (None if never)."""
        codec = CODECS[entity]
        table = table_of(entity)
        row = self.conn.execute(select(table).where(table.c.id == record_id)).one_or_none()
        if row is None:
            return None
        m = dict(row._mapping)
        content = codec.row_content(m)
        meta = {"id": m["id"], "school_id": m["school_id"], "ext_ids": m["ext_ids"] or {}}
        for f in codec.extra_fields:
            meta[f] = m[f]
        audits = self.conn.execute(
            select(AUDIT.c.op, AUDIT.c.old)
            .where(AUDIT.c.entity == entity.value, AUDIT.c.record_id == record_id)
            .order_by(AUDIT.c.id.desc())
        ).all()
        candidate = _build(codec.model, meta, content)
        if candidate is not None and candidate.content_hash == content_hash:
            return candidate
        for op, old in audits:
            if not old:
                continue
            content = {**content, **{k: v for k, v in old.items() if k in codec.content_fields}}
            candidate = _build(codec.model, meta, content)
            if candidate is not None and candidate.content_hash == content_hash:
                return candidate
            if op == "create":
                break
        return None

    # -- findings (the conflict queue in bulk) -------------------------------------------
    def findings_add(self, rows: Sequence[NewFinding]) -> None:
        """Add rows to the conflict queue in one bulk statement."""
        if not rows:
            return
        now = utcnow()
        bulk(self.conn, "insert", CONFLICTS, _FINDING_COLUMNS, lambda: insert(CONFLICTS)).execute(
            self.conn, [asdict(r) | {"created_at": now} for r in rows]
        )

    # -- runs ---------------------------------------------------------------------------
    def runs_interrupted(self, school_id: str, system: str, direction: str) -> int:
        """Runs of this job still ``running``: their process stopped before it could finish
        them (the engine runs one job at a time). They become ``failed``; returns how many."""
        c = RUNS.c
        done = self.conn.execute(
            update(RUNS)
            .where(
                c.school_id == school_id,
                c.system == system,
                c.direction == direction,
                c.status == "running",
            )
            .values(
                status="failed",
                finished_at=utcnow(),
                error="interrupted: the process stopped before the run finished",
            )
        )
        return int(done.rowcount or 0)

    # -- identity review ----------------------------------------------------------------
    def review_status(self, system: str, entity: Entity, ext_id: str) -> str | None:
        """The status of the newest review item for this external record, if any."""
        c = REVIEW.c
        stmt = (
            select(c.status)
            .where(c.system == system, c.entity == entity.value, c.external_id == ext_id)
            .order_by(c.id.desc())
            .limit(1)
        )
        status = self.conn.execute(stmt).scalar_one_or_none()
        return None if status is None else str(status)

    # -- outbox recovery ----------------------------------------------------------------
    def outbox_requeue(self, school_id: str, system: str) -> int:
        """Items left ``sending`` by a crash go back to ``pending`` (their keys make resends safe)."""
        c = OUTBOX.c
        done = self.conn.execute(
            update(OUTBOX)
            .where(c.school_id == school_id, c.system == system, c.status == "sending")
            .values(status="pending", updated_at=utcnow())
        )
        return int(done.rowcount or 0)

    def outbox_tickets(self, school_id: str, system: str) -> dict[str, list[int]]:
        """``ticket → outbox item ids`` of pushes sent and awaiting a receipt."""
        c = OUTBOX.c
        stmt = select(c.ticket, c.id).where(
            c.school_id == school_id, c.system == system, c.status == "sent", c.ticket.is_not(None)
        )
        out: dict[str, list[int]] = {}
        for ticket, item_id in self.conn.execute(stmt):
            out.setdefault(ticket, []).append(item_id)
        return out


def _build(
    model: type[Record], meta: Mapping[str, Any], content: Mapping[str, Any]
) -> Record | None:
    try:
        return model.model_validate({**meta, **content})
    except ValueError:
        return None


class OutboxBulkRepo:
    conn: Connection

    def outbox_enqueue_many(self, rows: Sequence[NewPush]) -> int:
        """Enqueue pushes in one statement; keys already enqueued are skipped. Returns how many
        rows were new."""
        if not rows:
            return 0
        from sqlalchemy.dialects import postgresql, sqlite

        now = utcnow()
        dialect = sqlite if self.conn.dialect.name == "sqlite" else postgresql
        stmt = dialect.insert(OUTBOX).on_conflict_do_nothing(index_elements=["idempotency_key"])
        done = self.conn.execute(
            stmt,
            [
                asdict(r)
                | {"status": "pending", "attempts": 0, "created_at": now, "updated_at": now}
                for r in rows
            ],
        )
        return int(done.rowcount or 0)


class MatchRepo:
    conn: Connection

    def has_unlinked(self, entity: Entity, school_id: str, system: str) -> bool:
        """Whether the school has live records of ``entity`` that ``system`` has no id for."""
        table = table_of(entity)
        c = IDENTITY.c
        linked = select(c.id).where(
            c.system == system, c.entity == entity.value, c.gateway_id == table.c.id
        )
        stmt = (
            select(table.c.id)
            .where(table.c.school_id == school_id, table.c.deleted_at.is_(None), ~linked.exists())
            .limit(1)
        )
        return self.conn.execute(stmt).first() is not None

    def has_linked(self, entity: Entity, school_id: str, system: str) -> bool:
        """Whether the school has records of ``entity`` (live or not) that ``system`` has an id
        for."""
        table = table_of(entity)
        c = IDENTITY.c
        stmt = (
            select(c.id)
            .join(table, table.c.id == c.gateway_id)
            .where(c.system == system, c.entity == entity.value, table.c.school_id == school_id)
            .limit(1)
        )
        return self.conn.execute(stmt).first() is not None

    def match_natural(
        self, entity: Entity, school_id: str, fields: Sequence[str], keys: Sequence[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], list[str]]:
        """Live records of the school whose ``fields`` equal one of ``keys``: key → ids.

        The query goes by the first field alone (a string column with an index of its own, or
        leading one — see ``sync.resolver.MATCH_KEYS``), the rest of the key is compared here;
        ``None`` in a key matches NULL."""
        table = table_of(entity)
        wanted = set(keys)
        anchor = table.c[fields[0]]
        values = sorted({k[0] for k in wanted if k[0] is not None})
        present: list[ColumnElement[bool]] = []
        if values:
            present.append(one_of(self.conn, anchor, values))
        if any(k[0] is None for k in wanted):
            present.append(anchor.is_(None))
        if not present:
            return {}
        # school and liveness are checked here: in the WHERE clause SQLite would rather walk
        # the school's index (every record of the school) than the anchor's
        c = table.c
        stmt = select(c.id, c.school_id, c.deleted_at, *(c[f] for f in fields)).where(or_(*present))
        out: dict[tuple[Any, ...], list[str]] = {}
        for row in self.conn.execute(stmt):
            key = tuple(row[3:])
            if key in wanted and row[1] == school_id and row[2] is None:
                out.setdefault(key, []).append(row[0])
        return out
