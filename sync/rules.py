"""The school's rules, checked before any conflict policy (``shared/domain.md``).

Pure functions over canonical records and a :class:`RuleContext` of read-only lookups. Each
returns :class:`Finding` values; the caller decides what they do — the planner for what a system
sends (:mod:`sync.plan`), the local journal for what is entered here (:mod:`sync.journal`):

==================  ================================================  ==============  ==="""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from mapping.model import Attendance, FinalMark, Lesson, Mark, Period, Record
from mapping.values import MarkKind

#: the kind of finding a conflict is: both sides changed the record since they last agreed
BOTH_CHANGED = "both_changed"
GRADE1_MARK = "grade1_mark"
GRADE1_HOMEWORK = "grade1_homework"
CLOSED_PERIOD = "closed_period"
PERIOD_CLOSING = "period_closing"
OUTSIDE_ENROLMENT = "outside_enrolment"
CORRECTED_MARK = "corrected_mark"
DELETED_MARK = "deleted_mark"
LATE_MARK = "late_mark"

#: Written work («письменные работы») when a system's mapping profile lists none of its own:
#: a mark for one of these is due within the deadline; other marks (an oral answer, homework)
#: have none. Canonical work type names, compared ignoring case, ё/е and spacing.
WRITTEN_WORK: tuple[str, ...] = (
    "Контрольная работа",
    "Самостоятельная работа",
    "Проверочная работа",
    "Диагностическая работа",
    "Лабораторная работа",
    "Практическая работа",
    "Диктант",
    "Изложение",
    "Сочинение",
    "Тест",
)


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
    class_id: str | None = None


@dataclass(frozen=True, slots=True)
class Movement:
    """One enrolment movement of a pupil (admission, transfer, leaving, promotion)."""

    date: dt.date
    kind: str
    from_class_id: str | None = None
    to_class_id: str | None = None


@dataclass(frozen=True, slots=True)
class PupilInfo:
    """What the rules know of a pupil's enrolment: the current class and status, and the
    movements (oldest first) when the store holds any."""

    class_id: str | None
    active: bool = True
    left_date: dt.date | None = None
    movements: tuple[Movement, ...] = ()


class RuleContext(Protocol):
    """Read-only facts the rules need; the sync shell answers them from the store."""

    def lesson(self, lesson_id: str) -> LessonInfo | None: ...

    def pupil_parallel(self, pupil_id: str) -> int | None: ...

    def pupil(self, pupil_id: str) -> PupilInfo | None: ...

    def class_parallel(self, class_id: str) -> int | None: ...

    def closed_period(self, parallel: int, day: dt.date) -> str | None:
        """The id of a closed period covering ``day`` for ``parallel``, if any."""
        ...

    def period_closed(self, period_id: str) -> bool: ...

    def year_of(self, parallel: int) -> tuple[dt.date, dt.date] | None:
        """The academic year of ``parallel``: from its first period's start to its last's end
        (``None`` when no period is known)."""
        ...


def normalise_work_type(name: str) -> str:
    return " ".join(name.replace("ё", "е").replace("Ё", "Е").casefold().split())


def written_work(names: Iterable[str]) -> frozenset[str]:
    """Work type names as :attr:`Deadlines.written` compares them."""
    return frozenset(normalise_work_type(n) for n in names)


@dataclass(frozen=True)
class Deadlines:
    """Days allowed to enter a mark for written work after its lesson, by grade band."""

    grades_2_9: int = 5
    grades_10_11: int = 7
    timezone: dt.tzinfo = field(default=dt.UTC)
    #: the written work types (normalised, see :func:`written_work`)
    written: frozenset[str] = field(default_factory=lambda: written_work(WRITTEN_WORK))

    def days_for(self, parallel: int) -> int:
        return self.grades_10_11 if parallel >= 10 else self.grades_2_9

    def is_written(self, work_type: str | None) -> bool:
        return work_type is not None and normalise_work_type(work_type) in self.written


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
            GRADE1_MARK, "first grade gets no marks (безотметочное обучение)", "value", True
        )
    return None


def grade1_homework(record: Record, ctx: RuleContext) -> Finding | None:
    """Homework set in a first-grade lesson."""
    if not isinstance(record, Lesson) or not (record.homework or "").strip():
        return None
    if ctx.class_parallel(record.class_id) == 1:
        return Finding(
            GRADE1_HOMEWORK,
            "first grade gets no homework (безотметочное обучение)",
            "homework",
            True,
        )
    return None


def closed_period(record: Record, ctx: RuleContext) -> Finding | None:
    """A lesson-bound record, a lesson or a period mark inside a closed period."""
    if isinstance(record, Mark | Attendance):
        info = ctx.lesson(record.lesson_id)
        if info is None:
            return None
        period = ctx.closed_period(info.parallel, info.date)
        if period is not None:
            return Finding(
                CLOSED_PERIOD, f"lesson of {info.date} is in closed period {period}", None, True
            )
    elif isinstance(record, Lesson):
        parallel = ctx.class_parallel(record.class_id)
        if parallel is not None and (period := ctx.closed_period(parallel, record.date)):
            return Finding(
                CLOSED_PERIOD, f"lesson of {record.date} is in closed period {period}", None, True
            )
    elif isinstance(record, FinalMark) and record.period_id and ctx.period_closed(record.period_id):
        return Finding(CLOSED_PERIOD, f"period {record.period_id} is closed", "value", True)
    return None


def frozen(old: Record | None, new: Record | None, ctx: RuleContext) -> Finding | None:
    """A change that touches a closed period: ``old`` is the record as stored (``None`` for a
    new one), ``new`` as it would become (``None`` for a deletion). A record inside a closed
    period, before or after the change — so a mark moved out of one or into one, a lesson whose
    date moves out or in — and the dates or parallels of a closed period itself."""
    for rec in (new, old):
        if rec is not None and (found := closed_period(rec, ctx)):
            return found
    if isinstance(old, Period) and old.closed:
        if new is None:
            return Finding(CLOSED_PERIOD, f"period {old.id} is closed: it stays", None, True)
        if isinstance(new, Period):
            for name in ("start", "end", "parallels"):
                if getattr(old, name) != getattr(new, name):
                    return Finding(
                        CLOSED_PERIOD,
                        f"period {old.id} is closed: its {name} cannot change",
                        name,
                        True,
                    )
    return None


def period_closing(old: Record | None, new: Record) -> Finding | None:
    """``Period.closed`` set or cleared by a write: only the periods command (with its actor)
    closes or reopens a period."""
    if not isinstance(new, Period):
        return None
    before = old.closed if isinstance(old, Period) else False
    if new.closed == before:
        return None
    verb = "closed" if new.closed else "reopened"
    return Finding(
        PERIOD_CLOSING,
        f"period {new.id} is {verb} only with `schoolgate periods close|reopen --by NAME`",
        "closed",
        True,
    )


def _outside(pupil: PupilInfo, class_id: str, day: dt.date) -> str | None:
    """Why a pupil is not in ``class_id`` on ``day``; ``None`` when they are (or nobody can
    tell). On the day of a movement the pupil counts as in both classes."""
    if not pupil.active and pupil.left_date is not None and day > pupil.left_date:
        return f"the pupil left on {pupil.left_date}"
    if pupil.movements:
        first = pupil.movements[0]
        if first.kind == "admission" and day < first.date:
            return f"the pupil was admitted on {first.date}"
        current = None if first.kind == "admission" else first.from_class_id
        on_day: set[str | None] = set()
        left_on: dt.date | None = None
        for m in pupil.movements:
            after = None if m.kind == "leaving" else m.to_class_id
            if m.date > day:
                break
            if m.date == day:
                on_day |= {current, after}
            current = after
            left_on = m.date if m.kind == "leaving" else None
        classes = ({current} | on_day) - {None}
        if not classes:
            return f"the pupil left on {left_on}" if left_on else "the pupil is not enrolled"
        if class_id not in classes:
            return f"the pupil is not in class {class_id} on {day}"
        return None
    if pupil.class_id is not None and pupil.class_id != class_id:
        return f"the pupil is not in class {class_id}"
    return None


def enrolment(record: Record, ctx: RuleContext) -> Finding | None:
    """A mark or absence for a pupil outside their enrolment on the lesson's day: after they
    left, before they were admitted, in a class they are not in."""
    if not isinstance(record, Mark | Attendance):
        return None
    info = ctx.lesson(record.lesson_id)
    pupil = ctx.pupil(record.pupil_id)
    if info is None or pupil is None or info.class_id is None:
        return None
    why = _outside(pupil, info.class_id, info.date)
    if why is None:
        return None
    return Finding(
        OUTSIDE_ENROLMENT,
        f"lesson of {info.date}: {why} (pupil {record.pupil_id})",
        "pupil_id",
        True,
    )


def placement(old: Record | None, new: Record, ctx: RuleContext) -> list[Finding]:
    """Where a record belongs, checked on what a change brings: a mark or absence outside the
    pupil's enrolment (when it is new or moves to another pupil or lesson), homework in grade 1
    (when it is set or the lesson moves to another class)."""
    out: list[Finding] = []
    if isinstance(new, Mark | Attendance):
        moved = not isinstance(old, Mark | Attendance) or (old.pupil_id, old.lesson_id) != (
            new.pupil_id,
            new.lesson_id,
        )
        if moved and (found := enrolment(new, ctx)):
            out.append(found)
    elif isinstance(new, Lesson):
        changed = not isinstance(old, Lesson) or (old.homework, old.class_id) != (
            new.homework,
            new.class_id,
        )
        if changed and (found := grade1_homework(new, ctx)):
            out.append(found)
    return out


def late_mark(mark: Mark, ctx: RuleContext, deadlines: Deadlines) -> Finding | None:
    """A new mark for written work entered more than the allowed days after its lesson
    («задним числом»). Marks of other work types have no deadline."""
    if mark.created_at is None or not deadlines.is_written(mark.work_type):
        return None
    info = ctx.lesson(mark.lesson_id)
    if info is None:
        return None
    entered = mark.created_at.astimezone(deadlines.timezone).date()
    late_by = (entered - info.date).days - deadlines.days_for(info.parallel)
    if late_by > 0:
        return Finding(
            LATE_MARK,
            f"{mark.work_type} entered {entered} for the lesson of {info.date}: "
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
                out.append(Finding(CORRECTED_MARK, f"{name}: {before} → {after}", name))
    return out


def deleted(old: Record) -> Finding | None:
    if isinstance(old, Mark | FinalMark):
        return Finding(DELETED_MARK, f"mark {old.value} deleted", "value")
    return None


def unusual_value(record: Record) -> Finding | None:
    """A current mark ``н/а``: ES2's contract allows it, so it is stored — and noted, since
    «не аттестован» is normally a period or final mark."""
    if isinstance(record, Mark) and record.value.kind is MarkKind.NOT_ATTESTED:
        return Finding(
            "unusual_mark", "'н/а' (не аттестован) as a current mark, not a period mark", "value"
        )
    return None


def outside_year(day: dt.date, year: tuple[dt.date, dt.date] | None, field: str) -> Finding | None:
    """A date outside the academic year (``year``: its first and last day, when known)."""
    if year is not None and not year[0] <= day <= year[1]:
        return Finding(
            "outside_year", f"{day} is outside the academic year {year[0]}–{year[1]}", field, True
        )
    return None


def out_of_year(record: Record, ctx: RuleContext) -> Finding | None:
    """A lesson dated, or a mark or absence for a lesson, outside its class's academic year."""
    if isinstance(record, Lesson):
        parallel, day, field = ctx.class_parallel(record.class_id), record.date, "date"
    elif isinstance(record, Mark | Attendance):
        info = ctx.lesson(record.lesson_id)
        if info is None:
            return None
        parallel, day, field = info.parallel, info.date, "lesson_id"
    else:
        return None
    return None if parallel is None else outside_year(day, ctx.year_of(parallel), field)
