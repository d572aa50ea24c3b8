"""Helpers for the АСИОУ end-to-end tests: a connector on a served simulator, and a tiny
in-memory consumer that applies a package's atomic pages the way the contract says."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.asiou import PACKAGE_ENTITIES, AsiouConnector
from connectors.base import Page
from core.entities import Entity
from fixtures.school import SchoolData
from mapping.asiou import to_canonical
from mapping.identity import resolve
from mapping.model import Record, Tombstone

#: fields an АСИОУ package does not carry: a subject's short name, a period's closed flag
NOT_CARRIED: dict[Entity, set[str]] = {Entity.SUBJECTS: {"short"}, Entity.PERIODS: {"closed"}}
ENTITIES = PACKAGE_ENTITIES


def connector(base_url: str, **kw: Any) -> AsiouConnector:
    return AsiouConnector(
        base_url=base_url,
        school="760215",
        login="gateway",
        password="secret",
        client=httpx.Client(timeout=10),
        sleep=lambda s: None,
        **kw,
    )


def content(entity: Entity, rec: Record) -> dict[str, Any]:
    data = rec.content()
    for name in NOT_CARRIED.get(entity, ()):
        data.pop(name, None)
    return data


def expected(school: SchoolData, entity: Entity) -> dict[str, dict[str, Any]]:
    return {r.id: content(entity, r) for r in school.records(entity)}


@dataclass
class Consumer:
    """Applies whole packages: atomic pages are buffered and applied at the complete page."""

    school: SchoolData
    records: dict[Entity, dict[str, Record]] = field(default_factory=dict)
    state: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)

    def pull(self, conn: AsiouConnector) -> None:
        self.apply(conn.pull(None, self.state))

    def apply(self, pages: Iterable[Page]) -> None:
        unit: list[Page] = []
        for page in pages:
            unit.append(page)
            if page.complete or not page.atomic:
                self._commit(unit)
                unit = []
        # pages of an unfinished atomic unit are dropped: nothing of the package is applied

    def _commit(self, unit: list[Page]) -> None:
        staged = {e: dict(t) for e, t in self.records.items()}
        seen: dict[Entity, set[str]] = {}
        for page in unit:
            table = staged.setdefault(page.entity, {})
            for wire in page.records:
                rec = to_canonical(page.entity, wire, school_id=self.school.school.id)
                if isinstance(rec, Tombstone):
                    gid = self.school.lookup("asiou", page.entity, rec.id.split(":", 1)[1])
                    table.pop(gid or rec.id, None)
                    continue
                rec = resolve(rec, self.school.lookup, mint=lambda s, e, x: f"{s}:{x}")
                table[rec.id] = rec
                seen.setdefault(page.entity, set()).add(rec.id)
            if page.snapshot:
                seen.setdefault(page.entity, set())
        for entity, ids in seen.items():
            if unit[-1].snapshot:  # a full package: what it lacks is gone
                staged[entity] = {g: r for g, r in staged[entity].items() if g in ids}
        self.records = staged
        self.state = unit[-1].state

    def contents(self, entity: Entity) -> dict[str, dict[str, Any]]:
        return {gid: content(entity, r) for gid, r in self.records.get(entity, {}).items()}
