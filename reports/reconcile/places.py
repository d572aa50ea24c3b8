"""Where a record sits in the journal — class, subject, pupil, day, period — and whether it is
inside what a reconciliation was asked to compare (a class, a period). Pure, over lookups read
once from the store (the school's lessons and pupils)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.entities import Entity
from store.queries import LessonKey

#: entities that belong to no class: compared whatever class was asked for
SCHOOL_WIDE = frozenset({Entity.PERIODS, Entity.SUBJECTS, Entity.TEACHERS})
_LESSON_BOUND = frozenset({Entity.MARKS, Entity.ATTENDANCE})


@dataclass(frozen=True, slots=True)
class Place:
    class_id: str | None = None
    subject_id: str | None = None
    pupil_id: str | None = None
    day: dt.date | None = None
    period_id: str | None = None


NOWHERE = Place()


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


@dataclass
class Places:
    """The school's lessons (where each sits) and pupils (their class), as the store holds them."""

    lessons: Mapping[str, LessonKey]
    pupil_class: Mapping[str, str | None]

    def of(self, entity: Entity, record_id: str | None, content: Mapping[str, Any]) -> Place:
        get = content.get
        if entity in _LESSON_BOUND:
            key = self.lessons.get(get("lesson_id") or "")
            pupil = get("pupil_id")
            if key is None:
                return Place(self.pupil_class.get(pupil or ""), None, pupil)
            return Place(key.class_id, key.subject_id, pupil, key.date)
        if entity is Entity.LESSONS:
            return Place(get("class_id"), get("subject_id"), None, _date(get("date")))
        if entity is Entity.FINAL_MARKS:
            pupil = get("pupil_id")
            return Place(
                self.pupil_class.get(pupil or ""), get("subject_id"), pupil, None, get("period_id")
            )
        if entity is Entity.PUPILS:
            return Place(get("class_id"), None, record_id)
        if entity is Entity.SUBGROUPS:
            return Place(get("class_id"), get("subject_id"))
        if entity is Entity.CLASSES:
            return Place(record_id)
        if entity is Entity.ENROLMENTS:
            return Place(get("to_class_id") or get("from_class_id"), None, get("pupil_id"))
        if entity is Entity.PERIODS:
            return Place(period_id=record_id)
        return NOWHERE


@dataclass(frozen=True)
class Window:
    """What to compare: some classes, the days of a period (per parallel: a period is named the
    same for the parallels it covers), or everything."""

    class_ids: frozenset[str] | None = None
    #: parallel → the period's first and last day (only the parallels the period covers)
    days: Mapping[int, tuple[dt.date, dt.date]] | None = None
    period_ids: frozenset[str] = frozenset()
    class_parallel: Mapping[str, int] = field(default_factory=dict)

    @property
    def everything(self) -> bool:
        return self.class_ids is None and self.days is None

    def covers(self, entity: Entity, place: Place) -> bool:
        if self.everything:
            return True
        if entity in SCHOOL_WIDE:
            return (
                entity is not Entity.PERIODS
                or self.days is None
                or (place.period_id in self.period_ids)
            )
        if self.class_ids is not None and place.class_id not in self.class_ids:
            return False
        if self.days is None:
            return True
        if entity is Entity.FINAL_MARKS:
            return place.period_id in self.period_ids
        parallel = self.class_parallel.get(place.class_id or "")
        span = self.days.get(parallel) if parallel is not None else None
        if span is None:
            return False
        if place.day is None:  # pupils, classes, subgroups: inside when their parallel is
            return True
        return span[0] <= place.day <= span[1]
