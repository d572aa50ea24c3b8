"""Pull checkpoints (``tx.checkpoints``): the connector state a pull resumes from, saved in
the same unit of work as the records it covers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from store.bulk import bulk, upsert_statement
from store.repo import Repo
from store.tables import table
from store.tables.gateway import CheckpointRow
from store.types import utcnow

CHECKPOINTS = table(CheckpointRow)


class CheckpointsRepo(Repo):
    def get(self, school_id: str, system: str, entity: str) -> dict[str, Any] | None:
        c = CHECKPOINTS.c
        stmt = select(c.state).where(
            c.school_id == school_id, c.system == system, c.entity == str(entity)
        )
        state = self.conn.execute(stmt).scalar_one_or_none()
        return None if state is None else dict(state)

    def save(self, school_id: str, system: str, entity: str, state: dict[str, Any]) -> None:
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
