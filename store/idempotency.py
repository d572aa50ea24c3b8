"""Idempotency keys of the journal write API (``tx.idempotency``).

A request claims its (token, key) before it writes; the answer is kept with the key, so a retry
with the same key and body gets the same answer and writes nothing again. A claim whose request
died before answering (``pending`` for longer than ``stale_after``) may be taken over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from store.repo import Repo
from store.tables import table
from store.tables.api import IdempotencyRow
from store.types import utcnow

KEYS = table(IdempotencyRow)


@dataclass(frozen=True, slots=True)
class Claim:
    """What a request found under its key.

    ``new``: claimed, go ahead; ``done``: answered before (``status``/``response``);
    ``pending``: another request holds it now; ``mismatch``: the key was used with another body.
    """

    outcome: Literal["new", "done", "pending", "mismatch"]
    status: int | None = None
    response: dict[str, Any] | None = None


class IdempotencyRepo(Repo):
    def claim(
        self, token_id: int, key: str, request_hash: str, *, stale_after: dt.timedelta
    ) -> Claim:
        c = KEYS.c
        now = utcnow()
        values = {
            "token_id": token_id,
            "key": key,
            "request_hash": request_hash,
            "status": "pending",
            "response_status": None,
            "response": None,
            "created_at": now,
            "updated_at": now,
        }
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(KEYS).values(values).on_conflict_do_nothing()
        if self.conn.execute(stmt).rowcount:
            return Claim("new")
        row = self.conn.execute(
            select(c.request_hash, c.status, c.response_status, c.response, c.updated_at)
            .where(c.token_id == token_id, c.key == key)
            .with_for_update()
        ).one()
        if row.request_hash != request_hash:
            return Claim("mismatch")
        if row.status == "done":
            return Claim("done", row.response_status, row.response)
        if now - row.updated_at < stale_after:
            return Claim("pending")
        self.conn.execute(
            update(KEYS).where(c.token_id == token_id, c.key == key).values(updated_at=now)
        )
        return Claim("new")

    def complete(self, token_id: int, key: str, status: int, response: dict[str, Any]) -> None:
        c = KEYS.c
        self.conn.execute(
            update(KEYS)
            .where(c.token_id == token_id, c.key == key)
            .values(status="done", response_status=status, response=response, updated_at=utcnow())
        )

    def release(self, token_id: int, key: str) -> None:
        """Forget a claim whose request failed without an answer worth keeping."""
        c = KEYS.c
        self.conn.execute(
            delete(KEYS).where(c.token_id == token_id, c.key == key, c.status == "pending")
        )
