"""The durable outbox of pushes: enqueued once per idempotency key, claimed, results recorded.

An item's status says where it is::

    pending ──claim──▶ sending ──▶ accepted | duplicate | rejected     (final)
       ▲                  │  └───▶ sent ──receipt──▶ accepted | duplicate | rejected
       │                  └──────▶ failed ──next_attempt_at──▶ (claimed again)
       └── release (claimed, never sent) / requeue (a crash left it sending)

``failed`` means the outcome is unknown or the item could not go out (a timeout, a reset after
sending, a batch answer without it, an unreadable receipt): it is sent again with the same key —
which the contracts make safe — from ``next_attempt_at`` on. Only ``rejected`` is a refusal.
A queued push that the system turns out to hold already is *settled*: removed before it is ever
sent (:meth:`OutboxRepo.settle`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.errors import StoreError
from store.params import one_of
from store.repo import Repo
from store.tables import table
from store.tables.gateway import OutboxRow
from store.types import utcnow

OUTBOX = table(OutboxRow)
_CHUNK = 10_000
STATUSES = frozenset({"pending", "sending", "sent", "accepted", "duplicate", "rejected", "failed"})
#: items that still need the system: waiting to go, going, awaiting a receipt, to be sent again
WAITING = ("pending", "sending", "sent", "failed")
#: items whose outcome is known
FINAL = ("accepted", "duplicate", "rejected")


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
    next_attempt_at: dt.datetime | None = None


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
    #: for ``failed``: when to send it again
    next_attempt_at: dt.datetime | None = None


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
        self,
        school_id: str,
        system: str,
        limit: int = 100,
        *,
        retry_failed: bool = False,
        now: dt.datetime | None = None,
    ) -> list[OutboxItem]:
        """Mark up to ``limit`` items (oldest first) as sending and return them: pending ones,
        and failed ones whose next attempt is due (``retry_failed``: every failed one)."""
        c = OUTBOX.c
        due = c.status == "failed"
        if not retry_failed:
            due = and_(
                due, or_(c.next_attempt_at.is_(None), c.next_attempt_at <= (now or utcnow()))
            )
        stmt = (
            select(c.id)
            .where(c.school_id == school_id, c.system == system, or_(c.status == "pending", due))
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
        """Store each item's outcome (its remote receipt, id or error; when to try again)."""
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
                next_attempt_at=bindparam("b_next"),
                updated_at=now,
            ),
            [
                {
                    "b_id": r.id,
                    "b_status": r.status,
                    "b_ticket": r.ticket,
                    "b_remote_id": r.remote_id,
                    "b_error": r.error,
                    "b_next": r.next_attempt_at if r.status == "failed" else None,
                }
                for r in results
            ],
        )
        if done.rowcount != len(results):
            raise StoreError("an outbox result names an item that does not exist")

    def release(self, ids: Sequence[int]) -> int:
        """Claimed items that were never sent go back to ``pending`` (their claim not counted
        as an attempt)."""
        if not ids:
            return 0
        c = OUTBOX.c
        done = self.conn.execute(
            update(OUTBOX)
            .where(c.id.in_(list(ids)), c.status == "sending")
            .values(status="pending", attempts=c.attempts - 1, updated_at=utcnow())
        )
        return int(done.rowcount or 0)

    def settle(self, school_id: str, system: str, entity: str, record_ids: Collection[str]) -> int:
        """The system holds these records as the store does now (its pull agreed on them, or a
        push found the agreement): their queued upserts to it are settled — removed, never
        sent. Every queued upsert of such a record goes, older versions too: a push sends the
        record as it is now, which the system already holds. Returns how many."""
        if not record_ids:
            return 0
        c = OUTBOX.c
        waiting = (
            c.school_id == school_id,
            c.system == system,
            c.status.in_(("pending", "failed")),
        )
        any_queued = select(c.id).where(*waiting).limit(1)
        if self.conn.execute(any_queued).first() is None:
            return 0
        wanted = list(dict.fromkeys(record_ids))
        settled = 0
        for start in range(0, len(wanted), _CHUNK):
            done = self.conn.execute(
                delete(OUTBOX).where(
                    one_of(self.conn, c.record_id, wanted[start : start + _CHUNK]),
                    c.entity == entity,
                    c.op == "upsert",
                    *waiting,
                )
            )
            settled += int(done.rowcount or 0)
        return settled

    def settle_claimed(self, ids: Sequence[int]) -> int:
        """Claimed items a push found the system holding already: removed, never sent."""
        if not ids:
            return 0
        c = OUTBOX.c
        done = self.conn.execute(delete(OUTBOX).where(c.id.in_(list(ids)), c.status == "sending"))
        return int(done.rowcount or 0)

    def retry(
        self,
        ids: Sequence[int] = (),
        *,
        school_id: str | None = None,
        system: str | None = None,
    ) -> dict[tuple[str, str], int]:
        """Items to send at the next push, now: those named by ``ids`` (failed or rejected),
        or without ids every failed one (of the school and system given). Returns how many per
        (school, system)."""
        c = OUTBOX.c
        conds = [c.status.in_(("failed", "rejected")) if ids else c.status == "failed"]
        if ids:
            conds.append(c.id.in_(list(ids)))
        if school_id is not None:
            conds.append(c.school_id == school_id)
        if system is not None:
            conds.append(c.system == system)
        chosen = self.conn.execute(select(c.id, c.school_id, c.system).where(*conds)).all()
        if not chosen:
            return {}
        self.conn.execute(
            update(OUTBOX)
            .where(c.id.in_([row[0] for row in chosen]))
            .values(status="pending", next_attempt_at=None, updated_at=utcnow())
        )
        out: dict[tuple[str, str], int] = {}
        for _, school, sys_ in chosen:
            out[(school, sys_)] = out.get((school, sys_), 0) + 1
        return out

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
