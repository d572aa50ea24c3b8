"""The identity map (``tx.identity``): (school, system, entity, external id) ⇄ gateway id, and on each
link the content hash that system and the store last agreed on (``synced_hash``) — which tells a
local edit (store moved) from a remote one (system moved) and both from a conflict.

The identity map is the one source of a record's ids in the systems: a link made by a pull, a
push or a person is the record's id there at once, for every reader. Records read from the store
carry their ``ext_ids`` from here (:func:`ext_ids_by_gid`); the record tables keep no copy that
could fall behind. When a system has two ids for one record (a duplicate there, linked to the
same person), the earliest link is the one a reader sees.

Links belong to a school: every lookup by external id names it, since two schools may each have
an installation of one system whose ids are numbered alike. Gateway ids are unique in the store,
so what is asked by gateway id needs no school.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from core.entities import Entity
from core.errors import StoreError
from store.bulk import bulk
from store.params import one_of
from store.repo import Repo
from store.tables import table
from store.tables.gateway import IdentityRow
from store.types import utcnow

IDENTITY = table(IdentityRow)
_CHUNK = 10_000
_LINK_COLUMNS = (
    "school_id",
    "system",
    "entity",
    "external_id",
    "gateway_id",
    "synced_hash",
    "created_at",
)


def ext_ids_by_gid(
    conn: Connection, entity: Entity, gids: Iterable[str]
) -> dict[str, dict[str, str]]:
    """``gid → {system: external id}`` of the linked ones among ``gids`` (the earliest link of
    a system wins). One lookup by gateway id per chunk (its own index)."""
    wanted = list(dict.fromkeys(gids))
    c = IDENTITY.c
    out: dict[str, dict[str, str]] = {}
    for start in range(0, len(wanted), _CHUNK):
        stmt = (
            select(c.gateway_id, c.system, c.external_id, c.entity)
            .where(one_of(conn, c.gateway_id, wanted[start : start + _CHUNK]))
            .order_by(c.id)
        )
        for gid, system, ext, ent in conn.execute(stmt):
            if ent == entity.value:
                out.setdefault(gid, {}).setdefault(system, ext)
    return out


class IdentityRepo(Repo):
    def lookup(
        self, school_id: str, system: str, entity: Entity, ext_ids: Iterable[str]
    ) -> dict[str, str]:
        """``external id → gateway id`` for those of ``ext_ids`` that are linked in the school."""
        wanted = list(dict.fromkeys(ext_ids))
        c = IDENTITY.c
        out: dict[str, str] = {}
        for start in range(0, len(wanted), _CHUNK):
            stmt = select(c.external_id, c.gateway_id).where(
                c.school_id == school_id,
                c.system == system,
                c.entity == entity.value,
                one_of(self.conn, c.external_id, wanted[start : start + _CHUNK]),
            )
            out.update({ext: gid for ext, gid in self.conn.execute(stmt)})
        return out

    def links_of(self, school_id: str, system: str, entity: Entity) -> dict[str, str]:
        """``external id → gateway id`` of every link of the school's ``entity`` in ``system``."""
        c = IDENTITY.c
        stmt = select(c.external_id, c.gateway_id).where(
            c.school_id == school_id, c.system == system, c.entity == entity.value
        )
        return {ext: gid for ext, gid in self.conn.execute(stmt)}

    def link(self, school_id: str, system: str, entity: Entity, ext_id: str, gid: str) -> None:
        """Record that ``ext_id`` in the school's ``system`` is ``gid``; relinking elsewhere is
        refused."""
        self.link_many(school_id, system, entity, {ext_id: gid})

    def link_many(self, school_id: str, system: str, entity: Entity, pairs: dict[str, str]) -> None:
        known = self.lookup(school_id, system, entity, pairs)
        for ext, gid in known.items():
            if pairs[ext] != gid:
                raise StoreError(
                    f"{system} {entity} {ext} of school {school_id} is already linked to {gid}, "
                    f"not {pairs[ext]}"
                )
        new = [
            {
                "school_id": school_id,
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
        """``system → external id`` of a gateway id (the earliest link of a system)."""
        c = IDENTITY.c
        rows = self.conn.execute(
            select(c.system, c.external_id).where(c.gateway_id == gid).order_by(c.id)
        )
        out: dict[str, str] = {}
        for system, ext in rows:
            out.setdefault(system, ext)
        return out

    def ext_ids_many(self, entity: Entity, gids: Iterable[str]) -> dict[str, dict[str, str]]:
        """``gid → {system: external id}`` (see :func:`ext_ids_by_gid`)."""
        return ext_ids_by_gid(self.conn, entity, gids)

    def ext_of(self, system: str, entity: Entity, gids: Iterable[str]) -> dict[str, str]:
        """``gid → external id in system`` for the linked ones (the earliest link)."""
        out: dict[str, str] = {}
        for gid, ext, _ in self._links(system, entity, gids):
            out.setdefault(gid, ext)
        return out

    def has_links(self, school_id: str, system: str, entity: Entity) -> bool:
        """Whether any of the school's ``entity`` is linked in ``system`` (a probe of the key's
        leading columns)."""
        c = IDENTITY.c
        stmt = (
            select(c.id)
            .where(c.school_id == school_id, c.system == system, c.entity == entity.value)
            .limit(1)
        )
        return self.conn.execute(stmt).first() is not None

    def linked_gids(self, school_id: str, system: str, entity: Entity) -> set[str]:
        """Gateway ids of the school's ``entity`` linked in ``system``."""
        c = IDENTITY.c
        stmt = select(c.gateway_id).where(
            c.school_id == school_id, c.system == system, c.entity == entity.value
        )
        return set(self.conn.execute(stmt).scalars())

    def agreements(self, system: str, entity: Entity, gids: Iterable[str]) -> dict[str, str | None]:
        """``gid → agreed hash`` (None: linked but never agreed) for gids linked in ``system``."""
        return {gid: h for gid, ext, h in self._links(system, entity, gids)}

    def _links(
        self, system: str, entity: Entity, gids: Iterable[str]
    ) -> list[tuple[str, str, str | None]]:
        """``(gid, external id, agreed hash)`` of the gids linked in ``system``. The lookup goes by
        gateway id alone (its own index; a gid has a link or two), system and entity are checked
        here."""
        wanted = list(dict.fromkeys(gids))
        c = IDENTITY.c
        out: list[tuple[str, str, str | None]] = []
        for start in range(0, len(wanted), _CHUNK):
            stmt = (
                select(c.gateway_id, c.external_id, c.synced_hash, c.system, c.entity)
                .where(one_of(self.conn, c.gateway_id, wanted[start : start + _CHUNK]))
                .order_by(c.id)
            )
            out.extend(
                (gid, ext, h)
                for gid, ext, h, sys_, ent in self.conn.execute(stmt)
                if sys_ == system and ent == entity.value
            )
        return out

    def agree(self, system: str, entity: Entity, hashes: Mapping[str, str]) -> None:
        """Record that ``system`` now holds each gid's content with the given hash."""
        if not hashes:
            return
        c = IDENTITY.c
        self.conn.execute(
            update(IDENTITY)
            .where(
                and_(
                    c.system == system,
                    c.entity == entity.value,
                    c.gateway_id == bindparam("b_gid"),
                )
            )
            .values(synced_hash=bindparam("b_hash")),
            [{"b_gid": g, "b_hash": h} for g, h in hashes.items()],
        )

    def link_agreed(
        self,
        school_id: str,
        system: str,
        entity: Entity,
        rows: Sequence[tuple[str, str, str | None]],
    ) -> None:
        """Insert new links ``(external id, gid, agreed hash)`` in one bulk statement."""
        if not rows:
            return
        now = utcnow()
        bulk(self.conn, "insert", IDENTITY, _LINK_COLUMNS, lambda: insert(IDENTITY)).execute(
            self.conn,
            [
                {
                    "school_id": school_id,
                    "system": system,
                    "entity": entity.value,
                    "external_id": ext,
                    "gateway_id": gid,
                    "synced_hash": h,
                    "created_at": now,
                }
                for ext, gid, h in rows
            ],
        )
