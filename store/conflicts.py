"""The conflict queue and held runs: what a person must look at before anything is applied."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from core.errors import StoreError
from store.schema import ConflictRow, HoldRow
from store.tables import table
from store.types import utcnow

CONFLICTS = table(ConflictRow)
HOLDS = table(HoldRow)


@dataclass(frozen=True, slots=True)
class Conflict:
    id: int
    school_id: str
    system: str
    entity: str
    record_id: str
    #: corrected_mark, deleted_mark, late_mark, closed_period, both_changed, grade1_mark, …
    kind: str
    field: str | None
    base: dict[str, Any] | None
    incoming: dict[str, Any] | None
    current: dict[str, Any] | None
    detail: str | None
    status: str  # open | resolved
    resolution: str | None
    policy: str | None
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    resolved_by: str | None


@dataclass(frozen=True, slots=True)
class NewFinding:
    """A row to add to the conflict queue: ``status`` ``open`` (held: a person decides),
    ``noted`` (recorded for the deputy director; applied) or ``rejected``."""

    school_id: str
    system: str
    entity: str
    record_id: str
    kind: str
    status: str
    field: str | None = None
    detail: str | None = None
    policy: str | None = None
    base: dict[str, Any] | None = None
    incoming: dict[str, Any] | None = None
    current: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    id: int
    school_id: str
    system: str
    run_id: int | None
    reason: str
    summary: dict[str, Any]
    status: str  # waiting | approved | discarded
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None


class ConflictsRepo:
    conn: Connection

    def conflict_add(
        self,
        school_id: str,
        system: str,
        entity: str,
        record_id: str,
        kind: str,
        *,
        field: str | None = None,
        base: dict[str, Any] | None = None,
        incoming: dict[str, Any] | None = None,
        current: dict[str, Any] | None = None,
        policy: str | None = None,
        detail: str | None = None,
    ) -> int:
        stmt = CONFLICTS.insert().values(
            detail=detail,
            school_id=school_id,
            system=system,
            entity=str(entity),
            record_id=record_id,
            kind=kind,
            field=field,
            base=base,
            incoming=incoming,
            current=current,
            policy=policy,
            status="open",
            created_at=utcnow(),
        )
        return int(self.conn.execute(stmt.returning(CONFLICTS.c.id)).scalar_one())

    def conflict_get(self, conflict_id: int) -> Conflict | None:
        row = self.conn.execute(
            select(CONFLICTS).where(CONFLICTS.c.id == conflict_id)
        ).one_or_none()
        return None if row is None else Conflict(**row._mapping)

    def conflicts_list(
        self,
        *,
        school_id: str | None = None,
        status: str | None = "open",
        entity: str | None = None,
        record_id: str | None = None,
        limit: int = 1000,
    ) -> list[Conflict]:
        c = CONFLICTS.c
        stmt = select(CONFLICTS).order_by(c.id).limit(limit)
        for col, value in (
            (c.school_id, school_id),
            (c.status, status),
            (c.entity, None if entity is None else str(entity)),
            (c.record_id, record_id),
        ):
            if value is not None:
                stmt = stmt.where(col == value)
        return [Conflict(**r._mapping) for r in self.conn.execute(stmt)]

    def conflict_resolve(self, conflict_id: int, resolution: str, *, by: str) -> None:
        c = CONFLICTS.c
        done = self.conn.execute(
            update(CONFLICTS)
            .where(c.id == conflict_id, c.status == "open")
            .values(status="resolved", resolution=resolution, resolved_at=utcnow(), resolved_by=by)
        )
        if done.rowcount != 1:
            raise StoreError(f"conflict {conflict_id} does not exist or is already resolved")

    # holds --------------------------------------------------------------------------------
    def hold_add(
        self,
        school_id: str,
        system: str,
        reason: str,
        summary: dict[str, Any],
        *,
        run_id: int | None = None,
    ) -> int:
        stmt = HOLDS.insert().values(
            school_id=school_id,
            system=system,
            run_id=run_id,
            reason=reason,
            summary=summary,
            status="waiting",
            created_at=utcnow(),
        )
        return int(self.conn.execute(stmt.returning(HOLDS.c.id)).scalar_one())

    def hold_get(self, hold_id: int) -> Hold | None:
        row = self.conn.execute(select(HOLDS).where(HOLDS.c.id == hold_id)).one_or_none()
        return None if row is None else Hold(**row._mapping)

    def holds_list(
        self, *, school_id: str | None = None, status: str | None = "waiting"
    ) -> list[Hold]:
        stmt = select(HOLDS).order_by(HOLDS.c.id)
        if school_id is not None:
            stmt = stmt.where(HOLDS.c.school_id == school_id)
        if status is not None:
            stmt = stmt.where(HOLDS.c.status == status)
        return [Hold(**r._mapping) for r in self.conn.execute(stmt)]

    def hold_decide(self, hold_id: int, *, approve: bool, by: str) -> None:
        c = HOLDS.c
        done = self.conn.execute(
            update(HOLDS)
            .where(c.id == hold_id, c.status == "waiting")
            .values(
                status="approved" if approve else "discarded", decided_at=utcnow(), decided_by=by
            )
        )
        if done.rowcount != 1:
            raise StoreError(f"hold {hold_id} does not exist or is already decided")
