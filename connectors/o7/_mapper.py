"""The О7 mapping bound to the sync engine (:class:`sync.mappers.Mapper`).

О7 names teachers, subjects and subgroups instead of giving ids, so its mapping needs a
:class:`~mapping.o7.NameIndex` of the school's roster. The index is rebuilt by :meth:`refresh`
whenever the roster in the store changes (after the roster part of a pull), so teachers and
subjects that the same pull brought are found by name too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from core.entities import Entity
from core.errors import RecordError
from mapping.model import (
    Attendance,
    Mark,
    Period,
    Record,
    SchoolClass,
    Subgroup,
    Subject,
    Teacher,
    Tombstone,
)
from mapping.o7 import NameIndex, O7Context, absence_to_wire, map_record, mark_to_wire
from mapping.profile import Profile

SYSTEM = "o7"
ResolveExt = Callable[[Entity, str], str | None]


class O7Mapper:
    system = SYSTEM

    def __init__(
        self, profile: Profile, school_id: str, year: str, roster: Iterable[Record]
    ) -> None:
        self.profile = profile
        self.school_id = school_id
        self.year = year
        uncarried = dict(profile.settings.get("uncarried", {}))
        self._uncarried = {str(k): frozenset(v) for k, v in uncarried.items()}
        self.refresh(roster)

    def refresh(self, roster: Iterable[Record]) -> None:
        records = list(roster)
        index = NameIndex.from_roster(
            teachers=[r for r in records if isinstance(r, Teacher)],
            subjects=[r for r in records if isinstance(r, Subject)],
            subgroups=[r for r in records if isinstance(r, Subgroup)],
            classes=[r for r in records if isinstance(r, SchoolClass)],
            periods=[r for r in records if isinstance(r, Period)],
        )
        self.ctx = O7Context(self.profile, self.school_id, self.year, index)

    def to_canonical(self, entity: Entity | None, wire: Mapping[str, Any]) -> Record | Tombstone:
        if entity is None:
            raise RecordError("О7 reads one entity at a time", entity="?", system=SYSTEM)
        return map_record(entity, wire, self.ctx)

    def to_wire(self, record: Record, resolve_ext: ResolveExt) -> dict[str, Any]:
        if isinstance(record, Mark):
            return mark_to_wire(record, resolve_ext, self.profile)
        if isinstance(record, Attendance):
            return absence_to_wire(record, resolve_ext, self.profile)
        raise RecordError(
            "О7 takes no writes of this entity",
            entity=record.entity,
            record_id=record.id,
            system=SYSTEM,
        )

    def kept_fields(self, entity: Entity) -> frozenset[str]:
        own = frozenset({"closed"}) if entity is Entity.PERIODS else frozenset()
        return own | self._uncarried.get(entity.value, frozenset())
