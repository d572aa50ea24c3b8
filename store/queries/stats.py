"""Totals for monitoring (the API's ``/metrics``): runs by outcome and live records per entity."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from core.entities import Entity
from store.records import table_of
from store.runs import RUNS


class StatsQueries:
    conn: Connection

    def run_totals(self) -> dict[tuple[str, str, str, str], int]:
        """``(school, system, direction, status) → runs``."""
        c = RUNS.c
        cols = (c.school_id, c.system, c.direction, c.status)
        stmt = select(*cols, func.count()).group_by(*cols)
        return {(a, b, d, s): int(n) for a, b, d, s, n in self.conn.execute(stmt)}

    def record_totals(self) -> dict[tuple[str, str], int]:
        """``(school, entity) → live records``."""
        out: dict[tuple[str, str], int] = {}
        for entity in Entity:
            t = table_of(entity).c
            stmt = (
                select(t.school_id, func.count())
                .where(t.deleted_at.is_(None))
                .group_by(t.school_id)
            )
            out.update({(school, entity.value): int(n) for school, n in self.conn.execute(stmt)})
        return out
