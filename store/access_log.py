"""Reads of personal data through the API (``tx.access_log``): by token and record id, never by
content (152-ФЗ: who saw whose record, when)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select

from store.repo import Repo
from store.tables import table
from store.tables.api import AccessLogRow

ACCESS_LOG = table(AccessLogRow)


@dataclass(frozen=True, slots=True)
class Access:
    token_id: int
    school_id: str
    entity: str
    record_id: str
    #: ``names`` (ФИО only) or ``names+personal`` (also birth date and СНИЛС)
    fields: str
    route: str
    at: dt.datetime


class AccessLogRepo(Repo):
    def record(self, rows: Sequence[Access]) -> None:
        if rows:
            self.conn.execute(
                insert(ACCESS_LOG),
                [
                    {
                        "token_id": a.token_id,
                        "school_id": a.school_id,
                        "entity": a.entity,
                        "record_id": a.record_id,
                        "fields": a.fields,
                        "route": a.route,
                        "at": a.at,
                    }
                    for a in rows
                ],
            )

    def list(self, token_id: int | None = None, limit: int = 1000) -> list[Access]:
        c = ACCESS_LOG.c
        stmt = select(
            c.token_id, c.school_id, c.entity, c.record_id, c.fields, c.route, c.at
        ).order_by(c.id)
        if token_id is not None:
            stmt = stmt.where(c.token_id == token_id)
        return [Access(**r._mapping) for r in self.conn.execute(stmt.limit(limit))]
