"""Sync runs (one record per run, counts per entity) and pull checkpoints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from core.errors import StoreError
from store.bulk import bulk, upsert_statement
from store.schema import CheckpointRow, RunRow
from store.tables import table
from store.types import utcnow

RUNS = table(RunRow)
CHECKPOINTS = table(CheckpointRow)
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


class RunsRepo:
    conn: Connection

    def run_start(self, school_id: str, system: str, direction: str) -> int:
        stmt = RUNS.insert().values(
            school_id=school_id,
            system=system,
            direction=direction,
            status="running",
            started_at=utcnow(),
            counts={},
        )
        return int(self.conn.execute(stmt.returning(RUNS.c.id)).scalar_one())

    def run_finish(
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

    def run_get(self, run_id: int) -> Run | None:
        row = self.conn.execute(select(RUNS).where(RUNS.c.id == run_id)).one_or_none()
        return None if row is None else Run(**row._mapping)

    def runs_list(
        self, *, school_id: str | None = None, system: str | None = None, limit: int = 20
    ) -> list[Run]:
        """The latest runs first."""
        stmt = select(RUNS).order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc()).limit(limit)
        if school_id is not None:
            stmt = stmt.where(RUNS.c.school_id == school_id)
        if system is not None:
            stmt = stmt.where(RUNS.c.system == system)
        return [Run(**r._mapping) for r in self.conn.execute(stmt)]

    # checkpoints --------------------------------------------------------------------------
    def checkpoint_get(self, school_id: str, system: str, entity: str) -> dict[str, Any] | None:
        c = CHECKPOINTS.c
        stmt = select(c.state).where(
            c.school_id == school_id, c.system == system, c.entity == str(entity)
        )
        state = self.conn.execute(stmt).scalar_one_or_none()
        return None if state is None else dict(state)

    def checkpoint_save(
        self, school_id: str, system: str, entity: str, state: dict[str, Any]
    ) -> None:
        """Save the pull state; commit it in the same unit of work as the records it covers."""
        row = {
            "school_id": school_id,
            "system": system,
            "entity": str(entity),
            "state": state,
            "updated_at": utcnow(),
        }
        columns = list(row)
        bulk(
            self.conn,
            "upsert",
            CHECKPOINTS,
            columns,
            lambda: upsert_statement(
                self.conn, CHECKPOINTS, columns, key=("school_id", "system", "entity")
            ),
        ).execute(self.conn, [row])
