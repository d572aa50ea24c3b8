"""The durable outbox of pushes: enqueued once per idempotency key, claimed, results recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.errors import StoreError
from store.repo import Repo
from store.tables import table
from store.tables.gateway import OutboxRow
from store.types import utcnow

OUTBOX = table(OutboxRow)
STATUSES = frozenset({"pending", "sending", "sent", "accepted", "duplicate", "rejected", "failed"})


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    school_id: str
    system: str
    entity: str
    record_id: str
    op: str
    idempotency_key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    ticket: str | None
    remote_id: str | None
    error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class NewPush:
    """A push to queue: ``idempotency_key`` names this version of the record for this system
    (queued once: a key already queued is skipped)."""

    school_id: str
    system: str
    entity: str
    record_id: str
    op: str  # upsert | delete
    idempotency_key: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxResult:
    """What became of one claimed item."""

    id: int
    status: str  # sent (async, ``ticket`` set) | accepted | duplicate | rejected | failed | pending
    ticket: str | None = None
    remote_id: str | None = None
    error: str | None = None


class OutboxRepo(Repo):
    """The durable outbox of pushes (``tx.outbox``)."""

    def enqueue(
        self,
        school_id: str,
        system: str,
        entity: str,
        record_id: str,
        op: str,
        idempotency_key: str,
        payload: dict[str, Any],
    ) -> tuple[int, bool]:
        """``(item id, created)``; a key already enqueued returns its item and adds nothing."""
        now = utcnow()
        values = {
            "school_id": school_id,
            "system": system,
            "entity": str(entity),
            "record_id": record_id,
            "op": op,
            "idempotency_key": idempotency_key,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        dialect = sqlite if self.conn.dialect.name == "sqlite" else postgresql
        stmt = (
            dialect.insert(OUTBOX)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(OUTBOX.c.id)
        )
        new_id = self.conn.execute(stmt).scalar_one_or_none()
        if new_id is not None:
            return int(new_id), True
        old = select(OUTBOX.c.id).where(OUTBOX.c.idempotency_key == idempotency_key)
        return int(self.conn.execute(old).scalar_one()), False

    def enqueue_many(self, rows: Sequence[NewPush]) -> int:
        """Enqueue pushes in one statement; keys already enqueued are skipped. Returns how many
        rows were new."""
        if not rows:
            return 0
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

    def claim(
        self, school_id: str, system: str, limit: int = 100, *, retry_failed: bool = False
    ) -> list[OutboxItem]:
        """Mark up to ``limit`` pending items (oldest first) as sending and return them."""
        c = OUTBOX.c
        wanted = ["pending", "failed"] if retry_failed else ["pending"]
        stmt = (
            select(c.id)
            .where(c.school_id == school_id, c.system == system, c.status.in_(wanted))
            .order_by(c.id)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list(self.conn.execute(stmt).scalars())
        if not ids:
            return []
        self.conn.execute(
            update(OUTBOX)
            .where(c.id.in_(ids))
            .values(status="sending", attempts=c.attempts + 1, updated_at=utcnow())
        )
        rows = self.conn.execute(select(OUTBOX).where(c.id.in_(ids)).order_by(c.id))
        return [OutboxItem(**r._mapping) for r in rows]

    def record(self, results: Sequence[OutboxResult]) -> None:
        """Store each item's outcome (its remote receipt, id or error)."""
        for res in results:
            if res.status not in STATUSES:
                raise StoreError(f"outbox item {res.id}: unknown status {res.status!r}")
        if not results:
            return
        c = OUTBOX.c
        now = utcnow()
        done = self.conn.execute(
            update(OUTBOX)
            .where(c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                ticket=bindparam("b_ticket"),
                remote_id=bindparam("b_remote_id"),
                error=bindparam("b_error"),
                updated_at=now,
            ),
            [
                {
                    "b_id": r.id,
                    "b_status": r.status,
                    "b_ticket": r.ticket,
                    "b_remote_id": r.remote_id,
                    "b_error": r.error,
                }
                for r in results
            ],
        )
        if done.rowcount != len(results):
            raise StoreError("an outbox result names an item that does not exist")

    def find(
        self,
        *,
        status: str | Sequence[str] | None = None,
        school_id: str | None = None,
        system: str | None = None,
        limit: int = 1000,
    ) -> list[OutboxItem]:
        c = OUTBOX.c
        stmt = select(OUTBOX).order_by(c.id).limit(limit)
        if isinstance(status, str):
            stmt = stmt.where(c.status == status)
        elif status is not None:
            stmt = stmt.where(c.status.in_(list(status)))
        if school_id is not None:
            stmt = stmt.where(c.school_id == school_id)
        if system is not None:
            stmt = stmt.where(c.system == system)
        return [OutboxItem(**r._mapping) for r in self.conn.execute(stmt)]

    def requeue(self, school_id: str, system: str) -> int:
        """Items left ``sending`` by a crash go back to ``pending`` (their keys make resends safe)."""
        c = OUTBOX.c
        done = self.conn.execute(
            update(OUTBOX)
            .where(c.school_id == school_id, c.system == system, c.status == "sending")
            .values(status="pending", updated_at=utcnow())
        )
        return int(done.rowcount or 0)

    def tickets(self, school_id: str, system: str) -> dict[str, list[int]]:
        """``ticket → outbox item ids`` of pushes sent and awaiting a receipt."""
        c = OUTBOX.c
        stmt = select(c.ticket, c.id).where(
            c.school_id == school_id, c.system == system, c.status == "sent", c.ticket.is_not(None)
        )
        out: dict[str, list[int]] = {}
        for ticket, item_id in self.conn.execute(stmt):
            out.setdefault(ticket, []).append(item_id)
        return out
