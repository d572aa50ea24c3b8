"""The identity map (system, entity, external id) ⇄ gateway id, and the review queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from core.entities import Entity
from core.errors import StoreError
from store.params import one_of
from store.schema import IdentityRow, ReviewRow
from store.tables import table
from store.types import utcnow

IDENTITY = table(IdentityRow)
REVIEW = table(ReviewRow)
_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class ReviewItem:
    id: int
    school_id: str
    system: str
    entity: str
    external_id: str
    candidate_ids: list[str]
    reason: str
    status: str  # open | linked | rejected
    linked_id: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None


class IdentityRepo:
    conn: Connection

    def lookup_ext(self, system: str, entity: Entity, ext_ids: Iterable[str]) -> dict[str, str]:
        """``external id → gateway id`` for those of ``ext_ids`` that are linked."""
        wanted = list(dict.fromkeys(ext_ids))
        c = IDENTITY.c
        out: dict[str, str] = {}
        for start in range(0, len(wanted), _CHUNK):
            stmt = select(c.external_id, c.gateway_id).where(
                c.system == system,
                c.entity == entity.value,
                one_of(self.conn, c.external_id, wanted[start : start + _CHUNK]),
            )
            out.update({ext: gid for ext, gid in self.conn.execute(stmt)})
        return out

    def links_of(self, system: str, entity: Entity) -> dict[str, str]:
        """``external id → gateway id`` of every link of ``entity`` in ``system``."""
        c = IDENTITY.c
        stmt = select(c.external_id, c.gateway_id).where(
            c.system == system, c.entity == entity.value
        )
        return {ext: gid for ext, gid in self.conn.execute(stmt)}

    def link(self, system: str, entity: Entity, ext_id: str, gid: str) -> None:
        """Record that ``ext_id`` in ``system`` is ``gid``; relinking elsewhere is refused."""
        self.link_many(system, entity, {ext_id: gid})

    def link_many(self, system: str, entity: Entity, pairs: dict[str, str]) -> None:
        known = self.lookup_ext(system, entity, pairs)
        for ext, gid in known.items():
            if pairs[ext] != gid:
                raise StoreError(
                    f"{system} {entity} {ext} is already linked to {gid}, not {pairs[ext]}"
                )
        new = [
            {
                "system": system,
                "entity": entity.value,
                "external_id": ext,
                "gateway_id": gid,
                "created_at": utcnow(),
            }
            for ext, gid in pairs.items()
            if ext not in known
        ]
        if new:
            self.conn.execute(IDENTITY.insert(), new)

    def ext_ids_of(self, gid: str) -> dict[str, str]:
        """``system → external id`` of a gateway id."""
        c = IDENTITY.c
        rows = self.conn.execute(select(c.system, c.external_id).where(c.gateway_id == gid))
        return {system: ext for system, ext in rows}

    # review queue -------------------------------------------------------------------------
    def review_add(
        self,
        school_id: str,
        system: str,
        entity: Entity,
        external_id: str,
        candidate_ids: Sequence[str],
        reason: str,
    ) -> int:
        stmt = REVIEW.insert().values(
            school_id=school_id,
            system=system,
            entity=entity.value,
            external_id=external_id,
            candidate_ids=list(candidate_ids),
            reason=reason,
            status="open",
            created_at=utcnow(),
        )
        return int(self.conn.execute(stmt.returning(REVIEW.c.id)).scalar_one())

    def review_list(
        self, school_id: str | None = None, status: str | None = "open"
    ) -> list[ReviewItem]:
        stmt = select(REVIEW).order_by(REVIEW.c.id)
        if school_id is not None:
            stmt = stmt.where(REVIEW.c.school_id == school_id)
        if status is not None:
            stmt = stmt.where(REVIEW.c.status == status)
        return [ReviewItem(**r._mapping) for r in self.conn.execute(stmt)]

    def review_decide(self, item_id: int, *, linked_id: str | None, by: str) -> None:
        """Link the item to ``linked_id`` (also in the identity map), or reject it with ``None``."""
        item = self.conn.execute(select(REVIEW).where(REVIEW.c.id == item_id)).one_or_none()
        if item is None:
            raise StoreError(f"review item {item_id} does not exist")
        if item.status != "open":
            raise StoreError(f"review item {item_id} is already {item.status}")
        if linked_id is not None:
            self.link(item.system, Entity(item.entity), item.external_id, linked_id)
        self.conn.execute(
            update(REVIEW)
            .where(REVIEW.c.id == item_id)
            .values(
                status="linked" if linked_id else "rejected",
                linked_id=linked_id,
                decided_at=utcnow(),
                decided_by=by,
            )
        )
