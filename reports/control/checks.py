"""The deputy director's checks of the journal (``shared/domain.md``), as pure functions over the
rows the store gave (:mod:`store.queries.control`): no I/O here, every rule stated where it is
applied.

* **marks of a pupil** in a class × subject (× subgroup) over the span: none, only one, or fewer
  than the norm — the quarter's norm for the subject's weekly hours (``[control]
  min_marks_per_quarter``) in proportion to the school weeks elapsed. Weekly hours are the
  lessons held divided by the weeks in which the class had lessons, rounded.
* **lessons** held without a topic; without homework (grade 1 gets none);
* **absences** «Н» (no valid reason) older than ``absence_reason_days`` — the class teacher has
  not given a reason (Б, У) yet;
* **late marks**: a mark for written work entered after the journal's deadline (5 days in grades
  2–9, 7 in 10–11 by default: ``sync.rules.Deadlines``, the same rule the journal notes);
* **changed marks**: every update or deletion in the history of a current mark on the span's
  lessons, or of a period mark of the span's periods;
* **period marks** that do not follow from the current marks: the weighted average of the
  numeric current marks of the period (a double mark «4/5» counts as both), rounded up from the
  fraction ``period_mark_round_up`` (0.5: 3.5 → 4, 3.49 → 3);
* **substitutions** recorded (a fault only when the substitute is the lesson's own teacher).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mapping.model import Period, SchoolClass
from mapping.values import InvalidValue, MarkValue
from reports.control.model import (
    WRONG_SUBSTITUTION,
    ControlResult,
    CourseKey,
    CourseStats,
    Finding,
    TeacherStats,
)
from reports.control.scope import ControlScope
from reports.control.settings import ControlSettings
from store.queries import Roster
from store.queries.control import AbsenceFact, LessonFact, MarkChange, MarkFact, PeriodMarkFact
from sync.rules import Deadlines

#: the attendance code of an absence without a (valid) reason
NO_REASON = "Н"
#: fields whose change alone does not correct a mark (when it was entered)
_NOT_A_CORRECTION = frozenset({"created_at"})


@dataclass(frozen=True)
class ControlInput:
    scope: ControlScope
    roster: Roster
    #: lessons from the earliest start of the span and its periods to the last day
    lessons: Sequence[LessonFact]
    marks: Sequence[MarkFact]
    absences: Sequence[AbsenceFact]
    period_marks: Sequence[PeriodMarkFact]
    changes: Sequence[MarkChange]
    deadlines: Deadlines
    settings: ControlSettings


def half_up(x: float, at: float = 0.5) -> int:
    """``x`` rounded down, or up from the fraction ``at``."""
    base = math.floor(x)
    return base + (1 if x - base >= at - 1e-9 else 0)


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weighted_average(values: Iterable[tuple[str, int]]) -> tuple[float | None, int]:
    """The weighted average of the numeric marks among ``(value, weight)`` and how many marks
    entered it."""
    total = weights = 0.0
    n = 0
    for raw, weight in values:
        try:
            value = MarkValue.parse(raw)
        except InvalidValue:
            continue
        if not value.is_numeric:
            continue
        n += 1
        for number in value.numbers:
            total += number * weight
            weights += weight
    return (total / weights if weights else None), n


class _Ctx:
    """Indexes over the input the checks share."""

    def __init__(self, data: ControlInput) -> None:
        self.data = data
        scope = data.scope
        self.classes: dict[str, SchoolClass] = {
            cid: c
            for cid, c in data.roster.classes.items()
            if scope.parallels is None or c.parallel in scope.parallels
        }
        self.all_lessons = {le.id: le for le in data.lessons if le.class_id in self.classes}
        self.lessons = [
            le for le in self.all_lessons.values() if scope.start <= le.date <= scope.last_day
        ]
        self.in_span = {le.id for le in self.lessons}

    def parallel(self, class_id: str) -> int:
        c = self.classes.get(class_id)
        return c.parallel if c is not None else 0

    def graded(self, class_id: str) -> bool:
        return self.parallel(class_id) >= 2

    def course(self, le: LessonFact) -> CourseKey:
        return (le.class_id, le.subject_id, le.subgroup_id)


def _pupils_of(ctx: _Ctx, key: CourseKey) -> list[str]:
    roster = ctx.data.roster
    class_id, _, subgroup_id = key
    if subgroup_id is not None and subgroup_id in roster.subgroups:
        members = roster.subgroups[subgroup_id].member_ids
        return sorted(
            p for p in members if p in roster.pupils and roster.pupils[p].status == "active"
        )
    return sorted(
        pid for pid, p in roster.pupils.items() if p.class_id == class_id and p.status == "active"
    )


def _courses(ctx: _Ctx) -> tuple[dict[CourseKey, CourseStats], list[Finding]]:
    """Accumulation: per course its lessons, weekly hours, norm, and the pupils below it."""
    settings = ctx.data.settings
    by_course: dict[CourseKey, list[LessonFact]] = defaultdict(list)
    class_weeks: dict[str, set[dt.date]] = defaultdict(set)
    for le in ctx.lessons:
        by_course[ctx.course(le)].append(le)
        class_weeks[le.class_id].add(monday(le.date))
    marks_of: dict[CourseKey, Counter[str]] = defaultdict(Counter)
    last_mark: dict[tuple[CourseKey, str], MarkFact] = {}
    for m in ctx.data.marks:
        on = ctx.all_lessons.get(m.lesson_id)
        if on is None or on.id not in ctx.in_span:
            continue
        marks_of[ctx.course(on)][m.pupil_id] += 1
        last_mark[(ctx.course(on), m.pupil_id)] = m
    stats: dict[CourseKey, CourseStats] = {}
    findings: list[Finding] = []
    for key, lessons in sorted(
        by_course.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
    ):
        class_id, subject_id, subgroup_id = key
        teachers = Counter(le.teacher_id for le in lessons if le.teacher_id)
        teacher = min(teachers, key=lambda t: (-teachers[t], t)) if teachers else None
        weeks = len(class_weeks[class_id]) or 1
        hours = max(1, half_up(len(lessons) / weeks))
        graded = ctx.graded(class_id)
        st = CourseStats(class_id, subject_id, subgroup_id, teacher, graded, len(lessons), hours)
        stats[key] = st
        if not graded:
            continue
        st.norm = settings.norm(hours, weeks)
        pupils = _pupils_of(ctx, key)
        st.pupils = len(pupils)
        counts = marks_of.get(key, Counter())
        for pid in pupils:
            n = counts.get(pid, 0)
            st.marks += n
            if n >= st.norm:
                st.at_norm += 1
            base: dict[str, Any] = {
                "class_id": class_id,
                "subject_id": subject_id,
                "subgroup_id": subgroup_id,
                "teacher_id": teacher,
                "pupil_id": pid,
            }
            info = {"marks": n, "norm": st.norm, "lessons": len(lessons), "hours": hours}
            if n == 0:
                findings.append(Finding("no_marks", f"{pid}:{subject_id}", **base, detail=info))
            elif n == 1:
                m = last_mark[(key, pid)]
                le = ctx.all_lessons[m.lesson_id]
                findings.append(
                    Finding(
                        "one_mark",
                        f"{pid}:{subject_id}",
                        **base,
                        lesson_id=le.id,
                        day=le.date,
                        detail={**info, "value": m.value},
                    )
                )
            elif n < st.norm:
                findings.append(Finding("below_norm", f"{pid}:{subject_id}", **base, detail=info))
    return stats, findings


def _lesson_findings(ctx: _Ctx) -> list[Finding]:
    out: list[Finding] = []
    for le in ctx.lessons:
        where: dict[str, Any] = {
            "class_id": le.class_id,
            "subject_id": le.subject_id,
            "subgroup_id": le.subgroup_id,
            "teacher_id": le.teacher_id,
            "lesson_id": le.id,
            "day": le.date,
            "number": le.number,
        }
        if not le.has_topic:
            out.append(Finding("no_topic", le.id, **where))
        if not le.has_homework and ctx.graded(le.class_id):
            out.append(Finding("no_homework", le.id, **where))
        if le.substitute_teacher_id:
            same = le.substitute_teacher_id == le.teacher_id
            out.append(
                Finding(
                    "substitution",
                    le.id,
                    **where,
                    problem=same,
                    detail={"substitute_id": le.substitute_teacher_id, "same": same},
                )
            )
    return out


def _absences(ctx: _Ctx) -> list[Finding]:
    grace = ctx.data.scope.as_of - dt.timedelta(days=ctx.data.settings.absence_reason_days)
    out = []
    for a in ctx.data.absences:
        le = ctx.all_lessons.get(a.lesson_id)
        if a.code != NO_REASON or le is None or le.id not in ctx.in_span or le.date > grace:
            continue
        out.append(
            Finding(
                "absence_no_reason",
                a.id,
                le.class_id,
                le.subject_id,
                le.subgroup_id,
                le.teacher_id,
                a.pupil_id,
                le.id,
                le.date,
                le.number,
                {"code": a.code},
            )
        )
    return out


def _late(ctx: _Ctx) -> list[Finding]:
    d = ctx.data.deadlines
    out = []
    for m in ctx.data.marks:
        le = ctx.all_lessons.get(m.lesson_id)
        if le is None or le.id not in ctx.in_span or m.created_at is None:
            continue
        if not ctx.graded(le.class_id) or not d.is_written(m.work_type):
            continue
        entered = m.created_at.astimezone(d.timezone).date()
        allowed = d.days_for(ctx.parallel(le.class_id))
        late_by = (entered - le.date).days - allowed
        if late_by > 0:
            out.append(
                Finding(
                    "late_mark",
                    m.id,
                    le.class_id,
                    le.subject_id,
                    le.subgroup_id,
                    le.teacher_id,
                    m.pupil_id,
                    le.id,
                    le.date,
                    le.number,
                    {
                        "entered": m.created_at,
                        "late_by": late_by,
                        "allowed": allowed,
                        "work_type": m.work_type,
                        "value": m.value,
                    },
                )
            )
    return out


def _changes(ctx: _Ctx) -> list[Finding]:
    roster = ctx.data.roster
    out = []
    for ch in ctx.data.changes:
        touched = set(ch.old or {}) | set(ch.new or {})
        if ch.op == "update" and touched <= _NOT_A_CORRECTION:
            continue
        detail = {
            "op": ch.op,
            "old": ch.old or {},
            "new": ch.new or {},
            "actor": ch.actor,
            "source": ch.source,
            "at": ch.at,
            "entity": ch.entity,
        }
        key = f"{ch.record_id}@{ch.audit_id}"
        if ch.lesson_id is not None:
            le = ctx.all_lessons.get(ch.lesson_id)
            if le is None or le.id not in ctx.in_span:
                continue
            out.append(
                Finding(
                    "changed_mark",
                    key,
                    le.class_id,
                    le.subject_id,
                    le.subgroup_id,
                    le.teacher_id,
                    ch.pupil_id,
                    le.id,
                    le.date,
                    le.number,
                    detail,
                )
            )
        else:
            pupil = roster.pupils.get(ch.pupil_id or "")
            class_id = pupil.class_id if pupil is not None and pupil.class_id else ""
            if class_id not in ctx.classes:
                continue
            period = roster.periods.get(ch.period_id or "")
            out.append(
                Finding(
                    "changed_mark",
                    key,
                    class_id,
                    ch.subject_id,
                    pupil_id=ch.pupil_id,
                    day=period.end if period else None,
                    detail={**detail, "period_id": ch.period_id},
                )
            )
    return out


def _period_marks(ctx: _Ctx, teacher_of: dict[tuple[str, str], str | None]) -> list[Finding]:
    roster, settings = ctx.data.roster, ctx.data.settings
    by_pupil_subject: dict[tuple[str, str], list[tuple[dt.date, str, int]]] = defaultdict(list)
    for m in ctx.data.marks:
        le = ctx.all_lessons.get(m.lesson_id)
        if le is not None:
            by_pupil_subject[(m.pupil_id, le.subject_id)].append((le.date, m.value, m.weight))
    out = []
    for fm in ctx.data.period_marks:
        if fm.period_id not in ctx.data.scope.period_ids:
            continue
        pupil = roster.pupils.get(fm.pupil_id)
        period: Period | None = roster.periods.get(fm.period_id)
        if pupil is None or period is None or pupil.class_id not in ctx.classes:
            continue
        if not ctx.graded(pupil.class_id):
            continue
        try:
            given = MarkValue.parse(fm.value)
        except InvalidValue:
            continue
        if not given.is_numeric or len(given.numbers) != 1:
            continue
        current = [
            (v, w)
            for day, v, w in by_pupil_subject.get((fm.pupil_id, fm.subject_id), [])
            if period.start <= day <= period.end
        ]
        avg, n = weighted_average(current)
        expected = None if avg is None else half_up(avg, settings.period_mark_round_up)
        if expected == given.numbers[0]:
            continue
        out.append(
            Finding(
                "period_mark",
                fm.id,
                pupil.class_id,
                fm.subject_id,
                teacher_id=teacher_of.get((pupil.class_id, fm.subject_id)),
                pupil_id=fm.pupil_id,
                day=period.end,
                detail={
                    "value": fm.value,
                    "average": avg,
                    "expected": expected,
                    "marks": n,
                    "period_id": fm.period_id,
                },
            )
        )
    return out


def _weekly(ctx: _Ctx) -> dict[str, dict[dt.date, int]]:
    weeks = sorted({monday(le.date) for le in ctx.lessons})
    out: dict[str, dict[dt.date, int]] = {
        cid: dict.fromkeys(weeks, 0) for cid in sorted({le.class_id for le in ctx.lessons})
    }
    for m in ctx.data.marks:
        le = ctx.all_lessons.get(m.lesson_id)
        if le is not None and le.id in ctx.in_span:
            out[le.class_id][monday(le.date)] += 1
    return out


def _teachers(ctx: _Ctx, findings: list[Finding]) -> list[TeacherStats]:
    stats: dict[str, TeacherStats] = {}

    def of(tid: str) -> TeacherStats:
        return stats.setdefault(tid, TeacherStats(tid))

    marks_on = Counter(m.lesson_id for m in ctx.data.marks if m.lesson_id in ctx.in_span)
    for le in ctx.lessons:
        if le.teacher_id:
            t = of(le.teacher_id)
            t.lessons += 1
            t.with_topic += le.has_topic
            t.with_homework += le.has_homework
            t.marks += marks_on.get(le.id, 0)
        if le.substitute_teacher_id and le.substitute_teacher_id != le.teacher_id:
            of(le.substitute_teacher_id).substituted += 1
    for f in findings:
        if f.teacher_id and f.problem:
            c = of(f.teacher_id).counts
            c[f.kind] = c.get(f.kind, 0) + 1
    return sorted(stats.values(), key=lambda t: t.teacher_id)


def evaluate(data: ControlInput) -> ControlResult:
    """Every check over the input: findings, figures per course, per teacher, per class and
    week."""
    ctx = _Ctx(data)
    stats, findings = _courses(ctx)
    teacher_of = {(k[0], k[1]): s.teacher_id for k, s in stats.items()}
    findings += _lesson_findings(ctx)
    findings += _absences(ctx)
    findings += _late(ctx)
    findings += _changes(ctx)
    findings += _period_marks(ctx, teacher_of)
    for f in findings:
        kind = f.kind
        course = f.course
        if course is None:
            continue
        if course not in stats and (course[0], course[1], None) in stats:
            course = (course[0], course[1], None)
        st = stats.get(course)
        if st is None:
            st = stats[course] = CourseStats(
                course[0], course[1], course[2], f.teacher_id, ctx.graded(course[0])
            )
        st.counts[kind] = st.counts.get(kind, 0) + 1
        if kind == "substitution" and f.problem:
            st.counts[WRONG_SUBSTITUTION] = st.counts.get(WRONG_SUBSTITUTION, 0) + 1
    class_ids = sorted({le.class_id for le in ctx.lessons} | {f.class_id for f in findings})
    return ControlResult(
        findings=findings,
        courses=list(stats.values()),
        teachers=_teachers(ctx, findings),
        weekly=_weekly(ctx),
        class_ids=class_ids,
        lessons=len(ctx.lessons),
        marks=sum(1 for m in data.marks if m.lesson_id in ctx.in_span),
        absences=sum(1 for a in data.absences if a.lesson_id in ctx.in_span),
    )
