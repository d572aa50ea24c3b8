"""Helpers for the ES2 end-to-end tests: a connector on a served simulator, and a tiny store
that applies pages the way the contract says (snapshots delete what they lack when complete)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.base import Page
from connectors.es2 import ES2Connector, ES2Options
from core.entities import PULL_ORDER, Entity
from fixtures.school import SchoolData
from mapping.es2 import to_canonical
from mapping.identity import resolve
from mapping.model import Record, Tombstone
from mapping.profile import load_profile

PROFILE = load_profile("es2")
ES2_ENTITIES = [e for e in PULL_ORDER if e is not Entity.ENROLMENTS]
#: fields ES2 does not carry (the period's closed flag is the gateway's own knowledge)
NOT_CARRIED = {Entity.PERIODS: {"closed"}}
SIM_NOW = dt.datetime(2025, 10, 27, 12, 0, tzinfo=dt.UTC)


def connector(base_url: str, school: SchoolData, **options: Any) -> ES2Connector:
    opts = ES2Options(
        year_start=school.year.start,
        year_end=school.year.end,
        today=SIM_NOW.date(),
        backoff_initial=0.01,
        backoff_max=0.05,
        **options,
    )
    return ES2Connector(
        httpx.Client(base_url=base_url, timeout=10),
        school="42",
        credentials={"client_id": "schoolgate", "client_secret": "secret"},
        options=opts,
        attempts=8,
    )


def content(entity: Entity, rec: Record) -> dict[str, Any]:
    data = rec.content()
    for name in NOT_CARRIED.get(entity, ()):
        data.pop(name, None)
    return data


def expected(school: SchoolData, entity: Entity) -> dict[str, dict[str, Any]]:
    return {r.id: content(entity, r) for r in school.records(entity)}


@dataclass
class Store:
    """Canonical records by entity and gateway id, with the per-entity pull state."""

    school: SchoolData
    records: dict[Entity, dict[str, Record]] = field(default_factory=dict)
    states: dict[Entity, dict[str, Any] | None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    #: wire records delivered by the last pull, per entity
    delivered: dict[Entity, int] = field(default_factory=dict)
    #: schools served earlier: their ids stay known (deleted records included), as in an identity map
    earlier: list[SchoolData] = field(default_factory=list)

    def lookup(self, system: str, entity: Entity, ext: str) -> str | None:
        for school in (self.school, *self.earlier):
            gid = school.lookup(system, entity, ext)
            if gid is not None:
                return gid
        return None

    def serve(self, school: SchoolData) -> None:
        self.earlier.insert(0, self.school)
        self.school = school

    def pull(
        self, conn: ES2Connector, entities: Iterable[Entity] = ES2_ENTITIES
    ) -> dict[Entity, dict[str, dict[str, Any] | None]]:
        """Pull each entity from its saved state; what changed: id → content (None: deleted)."""
        changes: dict[Entity, dict[str, dict[str, Any] | None]] = {}
        for entity in entities:
            changes[entity] = self._apply(entity, conn.pull(entity, self.states.get(entity)))
        return changes

    def _apply(self, entity: Entity, pages: Iterable[Page]) -> dict[str, dict[str, Any] | None]:
        table = self.records.setdefault(entity, {})
        changed: dict[str, dict[str, Any] | None] = {}
        seen: set[str] = set()
        self.delivered[entity] = 0
        for page in pages:
            self.delivered[entity] += len(page.records)
            for wire in page.records:
                rec = to_canonical(entity, wire, profile=PROFILE, school_id=self.school.school.id)
                if isinstance(rec, Tombstone):
                    ext = rec.id.split(":", 1)[1]
                    gid = self.lookup("es2", entity, ext) or rec.id
                    if table.pop(gid, None) is not None:
                        changed[gid] = None
                    continue
                rec = resolve(rec, self.lookup, mint=lambda s, e, x: f"{s}:{x}")
                seen.add(rec.id)
                old = table.get(rec.id)
                if old is None or old.content_hash != rec.content_hash:
                    changed[rec.id] = content(entity, rec)
                table[rec.id] = rec
            if page.snapshot and page.complete:
                for gid in [g for g, r in table.items() if g not in seen and _in(page, r)]:
                    del table[gid]
                    changed[gid] = None
                seen = set()
            self.states[entity] = page.state
        return changed

    def contents(self, entity: Entity) -> dict[str, dict[str, Any]]:
        return {gid: content(entity, r) for gid, r in self.records.get(entity, {}).items()}


def _in(page: Page, rec: Record) -> bool:
    scope = page.scope
    if scope.date_from is None or scope.date_to is None:
        return True
    day = getattr(rec, "date", None)
    return day is not None and scope.date_from <= day <= scope.date_to
