"""The conflict queue (``tx.conflicts``): held changes a person decides, and findings recorded
for the deputy director (corrected, deleted and late marks, refused records and pushes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import insert, select, update

from core.errors import StoreError
from store.bulk import bulk
from store.repo import Repo
from store.tables import table
from store.tables.gateway import ConflictRow
from store.types import utcnow

CONFLICTS = table(ConflictRow)


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


_FINDING_COLUMNS = (*(f.name for f in fields(NewFinding)), "created_at")


class ConflictsRepo(Repo):
    def add(
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

    def add_findings(self, rows: Sequence[NewFinding]) -> None:
        """Add rows to the conflict queue in one bulk statement."""
        if not rows:
            return
        now = utcnow()
        bulk(self.conn, "insert", CONFLICTS, _FINDING_COLUMNS, lambda: insert(CONFLICTS)).execute(
            self.conn, [asdict(r) | {"created_at": now} for r in rows]
        )

    def get(self, conflict_id: int) -> Conflict | None:
        row = self.conn.execute(
            select(CONFLICTS).where(CONFLICTS.c.id == conflict_id)
        ).one_or_none()
        return None if row is None else Conflict(**row._mapping)

    def find(
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

    def resolve(self, conflict_id: int, resolution: str, *, by: str) -> None:
        c = CONFLICTS.c
        done = self.conn.execute(
            update(CONFLICTS)
            .where(c.id == conflict_id, c.status == "open")
            .values(status="resolved", resolution=resolution, resolved_at=utcnow(), resolved_by=by)
        )
        if done.rowcount != 1:
            raise StoreError(f"conflict {conflict_id} does not exist or is already resolved")

    def park(self, rows: Sequence[NewFinding]) -> None:
        """Put records on the queue as ``waiting`` (for a reference that has not arrived); a
        record already waiting keeps its row, updated to its newer version."""
        if not rows:
            return
        c = CONFLICTS.c
        new: list[NewFinding] = []
        for r in rows:
            done = self.conn.execute(
                update(CONFLICTS)
                .where(
                    c.status == "waiting",
                    c.school_id == r.school_id,
                    c.system == r.system,
                    c.entity == r.entity,
                    c.record_id == r.record_id,
                )
                .values(field=r.field, detail=r.detail, incoming=r.incoming)
            )
            if not done.rowcount:
                new.append(r)
        self.add_findings(new)

    def waiting(self, school_id: str, system: str) -> list[Conflict]:
        """The records waiting for a reference, oldest first."""
        c = CONFLICTS.c
        stmt = (
            select(CONFLICTS)
            .where(c.status == "waiting", c.school_id == school_id, c.system == system)
            .order_by(c.id)
        )
        return [Conflict(**r._mapping) for r in self.conn.execute(stmt)]

    def settle(self, ids: Sequence[int], resolution: str) -> None:
        """Waiting rows whose record was applied (or refused after all) leave the queue."""
        if not ids:
            return
        c = CONFLICTS.c
        self.conn.execute(
            update(CONFLICTS)
            .where(c.id.in_(list(ids)), c.status == "waiting")
            .values(
                status="resolved",
                resolution=resolution,
                resolved_at=utcnow(),
                resolved_by="gateway",
            )
        )
