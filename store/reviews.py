"""The identity review queue (``tx.reviews``): people the gateway would not match alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from core.entities import Entity
from core.errors import StoreError
from store.identity import IdentityRepo
from store.records import table_of
from store.repo import Repo
from store.tables import table
from store.tables.gateway import ReviewRow
from store.types import utcnow

REVIEW = table(ReviewRow)


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


class ReviewsRepo(Repo):
    def add(
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

    def find(self, school_id: str | None = None, status: str | None = "open") -> list[ReviewItem]:
        stmt = select(REVIEW).order_by(REVIEW.c.id)
        if school_id is not None:
            stmt = stmt.where(REVIEW.c.school_id == school_id)
        if status is not None:
            stmt = stmt.where(REVIEW.c.status == status)
        return [ReviewItem(**r._mapping) for r in self.conn.execute(stmt)]

    def decide(self, item_id: int, *, linked_id: str | None, by: str) -> None:
        """Link the item to ``linked_id`` (also in the identity map), or reject it with ``None``."""
        item = self.conn.execute(select(REVIEW).where(REVIEW.c.id == item_id)).one_or_none()
        if item is None:
            raise StoreError(f"review item {item_id} does not exist")
        if item.status != "open":
            raise StoreError(f"review item {item_id} is already {item.status}")
        if linked_id is not None:
            entity = Entity(item.entity)
            table = table_of(entity)
            school = self.conn.execute(
                select(table.c.school_id).where(table.c.id == linked_id)
            ).scalar_one_or_none()
            if school != item.school_id:
                raise StoreError(
                    f"review item {item_id}: {entity} {linked_id} is not a record of school "
                    f"{item.school_id}"
                )
            IdentityRepo(self.conn).link(
                item.school_id, item.system, entity, item.external_id, linked_id
            )
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

    def status(self, school_id: str, system: str, entity: Entity, ext_id: str) -> str | None:
        """The status of the newest review item for this external record of the school, if any."""
        c = REVIEW.c
        stmt = (
            select(c.status)
            .where(
                c.school_id == school_id,
                c.system == system,
                c.entity == entity.value,
                c.external_id == ext_id,
            )
            .order_by(c.id.desc())
            .limit(1)
        )
        status = self.conn.execute(stmt).scalar_one_or_none()
        return None if status is None else str(status)
