"""A third-party system plugin, as another vendor would publish it: its own package, outside the
gateway's, registered only through entry-point metadata (group ``schoolgate.systems``).

«АКМЕ-Журнал» serves a whole school as one JSON document over HTTP (``GET /school/<code>``):
``{"subjects": [...], "teachers": [...], "classes": [...], "pupils": [...], "lessons": [...],
"marks": [...]}`` — each item with an ``id`` of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from typing import Any

import httpx

from connectors.base import (
    Capabilities,
    ConnectorSettings,
    Page,
    PushItem,
    PushResult,
    ReadMode,
    State,
)
from core.entities import Entity
from mapping.mapper import Mapper, ResolveExt
from mapping.model import Lesson, Mark, Pupil, Record, SchoolClass, Subject, Teacher, Tombstone
from mapping.values import MarkValue
from plugins import MapperContext, SystemPlugin

ENTITIES = (
    Entity.SUBJECTS,
    Entity.TEACHERS,
    Entity.CLASSES,
    Entity.PUPILS,
    Entity.LESSONS,
    Entity.MARKS,
)


class AcmeConnector:
    system = "acme"

    def __init__(self, client: httpx.Client, school: str) -> None:
        self.client = client
        self.school = school
        self._doc: dict[str, Any] | None = None

    @classmethod
    def from_settings(
        cls, settings: ConnectorSettings, *, client: httpx.Client | None = None
    ) -> AcmeConnector:
        http = client or httpx.Client(base_url=settings.base_url, timeout=settings.timeout)
        return cls(http, settings.remote_school)

    @classmethod
    def declared_capabilities(cls) -> Capabilities:
        return Capabilities(system="acme", pull=dict.fromkeys(ENTITIES, ReadMode.FULL))

    def capabilities(self) -> Capabilities:
        return self.declared_capabilities()

    def check(self) -> None:
        self.client.get(f"/school/{self.school}").raise_for_status()

    def pull(self, entity: Entity | None, state: State | None) -> Iterator[Page]:
        if self._doc is None:
            response = self.client.get(f"/school/{self.school}")
            response.raise_for_status()
            self._doc = response.json()
        assert entity is not None
        yield Page(entity, list(self._doc[entity.value]), {}, snapshot=True, complete=True)

    def push(self, entity: Entity, items: Sequence[PushItem]) -> list[PushResult]:
        return []

    def poll(self, tickets: Sequence[str]) -> list[PushResult]:
        return []

    def close(self) -> None:
        self.client.close()


class AcmeMapper:
    def __init__(self, ctx: MapperContext) -> None:
        self.system = ctx.settings.system
        self.school_id = ctx.school_id

    def _ref(self, value: object) -> str:
        return f"{self.system}:{value}"

    def to_canonical(self, entity: Entity | None, wire: Mapping[str, Any]) -> Record | Tombstone:
        base = {"id": self._ref(wire["id"]), "school_id": self.school_id}
        if entity is Entity.SUBJECTS:
            return Subject(**base, name=wire["name"])
        if entity is Entity.TEACHERS:
            return Teacher(**base, last_name=wire["last"], first_name=wire["first"])
        if entity is Entity.CLASSES:
            return SchoolClass(**base, name=wire["name"], parallel=wire["grade"], year="2025/2026")
        if entity is Entity.PUPILS:
            return Pupil(
                **base,
                last_name=wire["last"],
                first_name=wire["first"],
                birth_date=dt.date.fromisoformat(wire["born"]),
                class_id=self._ref(wire["class"]),
            )
        if entity is Entity.LESSONS:
            return Lesson(
                **base,
                class_id=self._ref(wire["class"]),
                subject_id=self._ref(wire["subject"]),
                teacher_id=self._ref(wire["teacher"]),
                date=dt.date.fromisoformat(wire["date"]),
                number=wire["number"],
            )
        assert entity is Entity.MARKS
        return Mark(
            **base,
            pupil_id=self._ref(wire["pupil"]),
            lesson_id=self._ref(wire["lesson"]),
            value=MarkValue.parse(wire["value"]),
        )

    def to_wire(self, record: Record, resolve_ext: ResolveExt) -> dict[str, Any]:
        raise NotImplementedError("АКМЕ-Журнал takes no writes")

    def uncarried(self, entity: Entity) -> frozenset[str]:
        return frozenset()


def _mapper(ctx: MapperContext) -> Mapper:
    return AcmeMapper(ctx)


PLUGIN = SystemPlugin(
    name="acme",
    title="«АКМЕ-Журнал»",
    connector=AcmeConnector,
    mapper=_mapper,
    profile=resources.files(__name__).joinpath("profile.toml"),
)
