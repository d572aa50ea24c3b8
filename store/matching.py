"""Finding records that other systems brought (``tx.matching``): by natural key, and whether
a school has records a system has, or has not, an id for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.sql.elements import ColumnElement

from core.entities import Entity
from store.identity import IDENTITY
from store.params import one_of
from store.records import table_of
from store.repo import Repo


class MatchingRepo(Repo):
    def has_unlinked(self, entity: Entity, school_id: str, system: str) -> bool:
        """Whether the school has live records of ``entity`` that ``system`` has no id for."""
        table = table_of(entity)
        c = IDENTITY.c
        linked = select(c.id).where(
            c.system == system, c.entity == entity.value, c.gateway_id == table.c.id
        )
        if self.conn.dialect.name == "postgresql":
            # OFFSET 0 keeps the question a probe of the link's gateway-id index per record:
            # turned into an anti-join, its plan follows the identity map's statistics, which lag
            # behind one entity's links while a first sync makes them (issue 11)
            linked = linked.offset(0)
        stmt = (
            select(table.c.id)
            .where(table.c.school_id == school_id, table.c.deleted_at.is_(None), ~linked.exists())
            .limit(1)
        )
        return self.conn.execute(stmt).first() is not None

    def has_linked(self, entity: Entity, school_id: str, system: str) -> bool:
        """Whether the school has records of ``entity`` (live or not) that ``system`` has an id
        for. The school's own links are probed (the identity key leads with the school): with
        hundreds of schools in one store, a school that has none — every first read — was
        answered by walking every other school's links of the system and entity."""
        table = table_of(entity)
        c = IDENTITY.c
        stmt = (
            select(c.id)
            .join(table, table.c.id == c.gateway_id)
            .where(
                c.school_id == school_id,
                c.system == system,
                c.entity == entity.value,
                table.c.school_id == school_id,
            )
            .limit(1)
        )
        return self.conn.execute(stmt).first() is not None

    def match_natural(
        self, entity: Entity, school_id: str, fields: Sequence[str], keys: Sequence[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], list[str]]:
        """Live records of the school whose ``fields`` equal one of ``keys``: key → ids.

        The query goes by the first field alone (a string column with an index of its own, or
        leading one — see ``sync.resolver.MATCH_KEYS``), the rest of the key is compared here;
        ``None`` in a key matches NULL."""
        table = table_of(entity)
        wanted = set(keys)
        anchor = table.c[fields[0]]
        values = sorted({k[0] for k in wanted if k[0] is not None})
        present: list[ColumnElement[bool]] = []
        if values:
            present.append(one_of(self.conn, anchor, values))
        if any(k[0] is None for k in wanted):
            present.append(anchor.is_(None))
        if not present:
            return {}
        # school and liveness are checked here: in the WHERE clause SQLite would rather walk
        # the school's index (every record of the school) than the anchor's
        c = table.c
        stmt = select(c.id, c.school_id, c.deleted_at, *(c[f] for f in fields)).where(or_(*present))
        out: dict[tuple[Any, ...], list[str]] = {}
        for row in self.conn.execute(stmt):
            key = tuple(row[3:])
            if key in wanted and row[1] == school_id and row[2] is None:
                out.setdefault(key, []).append(row[0])
        return out
