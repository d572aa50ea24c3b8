"""Held pulls (``tx.holds``): runs too dangerous to apply without a person."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from core.errors import StoreError
from store.repo import Repo
from store.tables import table
from store.tables.gateway import HoldRow
from store.types import utcnow

HOLDS = table(HoldRow)


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


class HoldsRepo(Repo):
    def add(
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

    def get(self, hold_id: int) -> Hold | None:
        row = self.conn.execute(select(HOLDS).where(HOLDS.c.id == hold_id)).one_or_none()
        return None if row is None else Hold(**row._mapping)

    def find(self, *, school_id: str | None = None, status: str | None = "waiting") -> list[Hold]:
        stmt = select(HOLDS).order_by(HOLDS.c.id)
        if school_id is not None:
            stmt = stmt.where(HOLDS.c.school_id == school_id)
        if status is not None:
            stmt = stmt.where(HOLDS.c.status == status)
        return [Hold(**r._mapping) for r in self.conn.execute(stmt)]

    def decide(self, hold_id: int, *, approve: bool, by: str) -> None:
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
