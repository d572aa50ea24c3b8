"""The school's rules, checked before any conflict policy (``shared/domain.md``, rules 2–4).

Pure functions over canonical records and a :class:`RuleContext` of read-only lookups. Each
returns :class:`Finding` values; the planner decides what they do:

- ``grade1_mark``      a mark for a first-grade pupil — rejected;
- ``closed_period``    any change inside a closed period — held as a conflict, not applied;
- ``corrected_mark``   a changed mark («исправление отметки») — recorded, then the policy applies;
- ``deleted_mark``     a deleted mark — recorded, then the policy applies;
- ``late_mark``        a mark entered after its deadline (5 days in grades 2–9, 7 in 10–11) —
                       recorded, then applied;
- ``unusual_mark``     a value a system's contract allows but the school would not expect in that
                       place (``н/а`` as a current mark) — recorded, then applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from mapping.model import Attendance, FinalMark, Lesson, Mark, Record
from mapping.values import MarkKind

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


def unusual_value(record: Record) -> Finding | None:
    """A current mark ``н/а``: ES2's contract allows it, so it is stored — and noted, since
    «не аттестован» is normally a period or final mark."""
    if isinstance(record, Mark) and record.value.kind is MarkKind.NOT_ATTESTED:
        return Finding(
            "unusual_mark", "'н/а' (не аттестован) as a current mark, not a period mark", "value"
        )
    return None
