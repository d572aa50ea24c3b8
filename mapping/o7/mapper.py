"""The О7 mapping bound to a school (a :class:`mapping.mapper.RosterMapper`).

О7 names teachers, subjects and subgroups instead of giving ids, so its mapping needs a
:class:`~mapping.o7.NameIndex` of the school's roster. The index is rebuilt by :meth:`refresh`
whenever the roster in the store changes (after the roster part of a pull), so teachers and
subjects that the same pull brought are found by name too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.entities import Entity
from core.errors import RecordError
from mapping.mapper import ResolveExt, uncarried_fields
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
from mapping.o7._index import NameIndex
from mapping.o7._records import O7Context, map_record
from mapping.o7._wire import absence_to_wire, mark_to_wire
from mapping.profile import Profile

SYSTEM = "o7"


class O7Mapper:
    system = SYSTEM

    def __init__(
        self, profile: Profile, school_id: str, year: str, roster: Iterable[Record]
    ) -> None:
        self.profile = profile
        self.school_id = school_id
        self.year = year
        self._uncarried = uncarried_fields(profile)
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

    def uncarried(self, entity: Entity) -> frozenset[str]:
        return self._uncarried.get(entity.value, frozenset())
