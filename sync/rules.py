"""The school's rules, checked before any conflict policy (``shared/domain.md``, rules 2–4).

Pure functions over canonical records and a :class:`RuleContext` of read-only lookups. Each
returns :class:`Finding` values; the planner decides what they do:

- ``grade1_mark``      a mark for a first-grade pupil — rejected;
- ``closed_period``    any change inside a closed period — held as a conflict, not applied;
- ``corrected_mark``   a changed mark («исправление отметки») — recorded, then the policy applies;
- ``deleted_mark``     a deleted mark — recorded, then the policy applies;
- ``late_mark``        a mark entered after its deadline (5 days in grades 2–9, 7 in 10–11) —
                       recorded, then applied.

Rules of a local entry, checked by the journal write API per item:

- ``grade1_homework``  homework for a first-grade class — refused;
- ``outside_year``     a date outside the academic year — refused;
- ``not_enrolled``     a mark or absence for a pupil not in the lesson's class that day, or not in
                       its subgroup — refused (:func:`stays` reads a pupil's movements).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mapping.model import Attendance, Enrolment, FinalMark, Lesson, Mark, Record

#: the kind of finding a conflict is: both sides changed the record since they last agreed
BOTH_CHANGED = "both_changed"


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a deputy director must see about one record change."""

    kind: str
    detail: str
    field: str | None = None
    #: blocking findings stop the change (held or rejected); others are recorded and applied
    blocking: bool = False


@dataclass(frozen=True, slots=True)
class LessonInfo:
    date: dt.date
    parallel: int


class RuleContext(Protocol):
    """Read-only facts the rules need; the sync shell answers them from the store."""

    def lesson(self, lesson_id: str) -> LessonInfo | None: ...

    def pupil_parallel(self, pupil_id: str) -> int | None: ...

    def class_parallel(self, class_id: str) -> int | None: ...

    def closed_period(self, parallel: int, day: dt.date) -> str | None:
        """The id of a closed period covering ``day`` for ``parallel``, if any."""
        ...

    def period_closed(self, period_id: str) -> bool: ...


@dataclass(frozen=True)
class Deadlines:
    """Days allowed to enter a mark after its lesson, by grade band."""

    grades_2_9: int = 5
    grades_10_11: int = 7
    timezone: dt.tzinfo = field(default=dt.UTC)

    def days_for(self, parallel: int) -> int:
        return self.grades_10_11 if parallel >= 10 else self.grades_2_9


def grade1(record: Record, ctx: RuleContext) -> Finding | None:
    """A mark (current or final) for a first-grade pupil."""
    if not isinstance(record, Mark | FinalMark):
        return None
    parallel = ctx.pupil_parallel(record.pupil_id)
    if parallel is None and isinstance(record, Mark):
        info = ctx.lesson(record.lesson_id)
        parallel = info.parallel if info else None
    if parallel == 1:
        return Finding(
            "grade1_mark", "first grade gets no marks (безотметочное обучение)", "value", True
        )
    return None


def closed_period(record: Record, ctx: RuleContext) -> Finding | None:
    """A change to a lesson-bound record or a period mark inside a closed period."""
    if isinstance(record, Mark | Attendance):
        info = ctx.lesson(record.lesson_id)
        if info is None:
            return None
        period = ctx.closed_period(info.parallel, info.date)
        if period is not None:
            return Finding(
                "closed_period", f"lesson of {info.date} is in closed period {period}", None, True
            )
    elif isinstance(record, Lesson):
        parallel = ctx.class_parallel(record.class_id)
        if parallel is not None and (period := ctx.closed_period(parallel, record.date)):
            return Finding(
                "closed_period", f"lesson of {record.date} is in closed period {period}", None, True
            )
    elif isinstance(record, FinalMark) and record.period_id and ctx.period_closed(record.period_id):
        return Finding("closed_period", f"period {record.period_id} is closed", "value", True)
    return None


def late_mark(mark: Mark, ctx: RuleContext, deadlines: Deadlines) -> Finding | None:
    """A new mark entered more than the allowed days after its lesson («задним числом»)."""
    if mark.created_at is None:
        return None
    info = ctx.lesson(mark.lesson_id)
    if info is None:
        return None
    entered = mark.created_at.astimezone(deadlines.timezone).date()
    late_by = (entered - info.date).days - deadlines.days_for(info.parallel)
    if late_by > 0:
        return Finding(
            "late_mark",
            f"entered {entered} for the lesson of {info.date}: "
            f"{late_by} day(s) after the {deadlines.days_for(info.parallel)}-day deadline",
            "created_at",
        )
    return None


def corrected(old: Record, new: Record) -> list[Finding]:
    """A changed mark value or work type: «исправление отметки» is never silent."""
    if not isinstance(old, Mark | FinalMark) or type(old) is not type(new):
        return []
    out = []
    for name in ("value", "work_type", "weight", "kind"):
        if name in type(old).model_fields:
            before, after = getattr(old, name), getattr(new, name)
            if before != after:
                out.append(Finding("corrected_mark", f"{name}: {before} → {after}", name))
    return out


def deleted(old: Record) -> Finding | None:
    if isinstance(old, Mark | FinalMark):
        return Finding("deleted_mark", f"mark {old.value} deleted", "value")
    return None


# -- rules of a local entry (the journal write API checks them per item) ----------------------


def grade1_homework(lesson: Lesson, parallel: int | None) -> Finding | None:
    """Homework set for a first-grade class (безотметочное обучение: no marks, no homework)."""
    if parallel == 1 and lesson.homework:
        return Finding(
            "grade1_homework", "first grade gets no homework (безотметочное обучение)",
            "homework", True,
        )  # fmt: skip
    return None


def outside_year(day: dt.date, year: tuple[dt.date, dt.date] | None, field: str) -> Finding | None:
    """A date outside the academic year (``year``: its first and last day, when known)."""
    if year is not None and not year[0] <= day <= year[1]:
        return Finding(
            "outside_year", f"{day} is outside the academic year {year[0]}–{year[1]}", field, True
        )
    return None


@dataclass(frozen=True, slots=True)
class Stay:
    """A pupil's time in one class: ``start <= day < end`` (``None``: open on that side)."""

    class_id: str
    start: dt.date | None
    end: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


def stays(movements: Sequence[Enrolment], class_id: str | None, left: dt.date | None) -> list[Stay]:
    """A pupil's stays in classes from their movements (admission, transfer, leaving,
    promotion), and their current class and leaving date when no movement names them.

    A transfer or leaving on a day ends the stay before that day; an admission, transfer or
    promotion on a day starts the new stay on it."""
    out: list[Stay] = []
    current: Stay | None = None
    for move in sorted(movements, key=lambda m: m.date):
        if move.from_class_id is not None:
            if current is not None and current.class_id == move.from_class_id:
                out.append(Stay(current.class_id, current.start, move.date))
            else:  # the history starts here: the pupil was in that class before
                if current is not None:
                    out.append(current)
                out.append(Stay(move.from_class_id, None, move.date))
            current = None
        if move.to_class_id is not None:
            if current is not None:
                out.append(current)
            current = Stay(move.to_class_id, move.date, None)
    if current is not None:
        out.append(Stay(current.class_id, current.start, left))
    elif class_id is not None and left is None and all(s.class_id != class_id for s in out):
        out.append(Stay(class_id, max((s.end for s in out if s.end), default=None), None))
    return out


def not_enrolled(
    record: Mark | Attendance,
    day: dt.date,
    class_id: str,
    pupil_stays: Sequence[Stay],
    subgroup_members: Collection[str] | None,
) -> Finding | None:
    """A mark or absence for a pupil who was not in the lesson's class on its day (before
    arriving, after leaving or transferring), or not in the lesson's subgroup."""
    if not any(s.class_id == class_id and s.covers(day) for s in pupil_stays):
        return Finding(
            "not_enrolled", f"the pupil is not in the lesson's class on {day}", "pupil_id", True
        )
    if subgroup_members is not None and record.pupil_id not in subgroup_members:
        return Finding(
            "not_in_subgroup", "the pupil is not in the lesson's subgroup", "pupil_id", True
        )
    return None
