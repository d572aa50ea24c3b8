"""A record's history (``tx.history``): its audit rows, and its content at an earlier
version — rebuilt by walking the audit rows back from the current row (audit rows carry the old
values of every change)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from core.entities import Entity
from mapping.model import Record
from store.codec import CODECS
from store.identity import ext_ids_by_gid
from store.records import AUDIT, table_of
from store.repo import Repo


class HistoryRepo(Repo):
    def of(self, entity: Entity, record_id: str) -> list[dict[str, Any]]:
        """The record's audit rows (its updates and deletes), oldest first."""
        stmt = (
            select(AUDIT)
            .where(AUDIT.c.entity == entity.value, AUDIT.c.record_id == record_id)
            .order_by(AUDIT.c.id)
        )
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def content_at(self, entity: Entity, record_id: str, content_hash: str) -> Record | None:
        """The record as it was when its content hash was ``content_hash`` (None if never)."""
        codec = CODECS[entity]
        table = table_of(entity)
        row = self.conn.execute(select(table).where(table.c.id == record_id)).one_or_none()
        if row is None:
            return None
        m = dict(row._mapping)
        content = codec.row_content(m)
        links = ext_ids_by_gid(self.conn, entity, [record_id]).get(record_id, {})
        meta = {"id": m["id"], "school_id": m["school_id"], "ext_ids": links}
        for f in codec.extra_fields:
            meta[f] = m[f]
        audits = self.conn.execute(
            select(AUDIT.c.op, AUDIT.c.old)
            .where(AUDIT.c.entity == entity.value, AUDIT.c.record_id == record_id)
            .order_by(AUDIT.c.id.desc())
        ).all()
        candidate = _build(codec.model, meta, content)
        if candidate is not None and candidate.content_hash == content_hash:
            return candidate
        for op, old in audits:
            if not old:
                continue
            content = {**content, **{k: v for k, v in old.items() if k in codec.content_fields}}
            candidate = _build(codec.model, meta, content)
            if candidate is not None and candidate.content_hash == content_hash:
                return candidate
            if op == "create":
                break
        return None


def _build(
    model: type[Record], meta: Mapping[str, Any], content: Mapping[str, Any]
) -> Record | None:
    try:
        return model.model_validate({**meta, **content})
    except ValueError:
        return None
