"""Sync runs (``tx.runs``): one record per run, with its status and counts per entity."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from core.errors import StoreError
from store.repo import Repo
from store.tables import table
from store.tables.gateway import RunRow
from store.types import utcnow

RUNS = table(RunRow)
RUN_STATUSES = frozenset({"running", "success", "partial", "held", "failed"})


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    school_id: str
    system: str
    direction: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    #: entity → {created, updated, deleted, unchanged, conflicts, rejected}
    counts: dict[str, Any]
    error: str | None


class RunsRepo(Repo):
    def start(self, school_id: str, system: str, direction: str) -> int:
        stmt = RUNS.insert().values(
            school_id=school_id,
            system=system,
            direction=direction,
            status="running",
            started_at=utcnow(),
            counts={},
        )
        return int(self.conn.execute(stmt.returning(RUNS.c.id)).scalar_one())

    def finish(
        self,
        run_id: int,
        status: str,
        counts: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        if status not in RUN_STATUSES - {"running"}:
            raise StoreError(f"a run cannot finish as {status!r}")
        values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "error": error}
        if counts is not None:
            values["counts"] = counts
        done = self.conn.execute(update(RUNS).where(RUNS.c.id == run_id).values(**values))
        if done.rowcount != 1:
            raise StoreError(f"sync run {run_id} does not exist")

    def get(self, run_id: int) -> Run | None:
        row = self.conn.execute(select(RUNS).where(RUNS.c.id == run_id)).one_or_none()
        return None if row is None else Run(**row._mapping)

    def find(
        self, *, school_id: str | None = None, system: str | None = None, limit: int = 20
    ) -> list[Run]:
        """The latest runs first."""
        stmt = select(RUNS).order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc()).limit(limit)
        if school_id is not None:
            stmt = stmt.where(RUNS.c.school_id == school_id)
        if system is not None:
            stmt = stmt.where(RUNS.c.system == system)
        return [Run(**r._mapping) for r in self.conn.execute(stmt)]

    def fail_interrupted(self, school_id: str, system: str, direction: str) -> int:
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
