"""The paper class journal for a class and a period, as the store holds it: the class list, per
subject (and subgroup) the current marks and absences by lesson date with the period mark, the
lessons' topics and homework; then the absences per pupil and the period marks of every subject.
Pure over what :func:`read_journal` reads from the store (``tx.queries``)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core.names import join_fio
from mapping.model import Attendance, FinalMark, Lesson, Mark, Period, Pupil, SchoolClass
from reports import text
from reports.errors import ReportError
from reports.names import Names
from reports.reconcile.scope import find_classes, find_periods
from store import Tx
from store.queries import Span

#: lesson columns per table: more go to a continuation table (A4 landscape holds about this many)
COLUMNS_PER_TABLE = 34
ABSENCE_CODES = ("Б", "У", "Н", "О")


@dataclass(frozen=True, slots=True)
class PupilLine:
    number: int
    id: str
    name: str
    note: str  # «выбыл 12.10.2025», «из другого класса»


@dataclass(frozen=True, slots=True)
class LessonColumn:
    id: str
    date: dt.date
    number: int
    topic: str
    homework: str
    teacher: str
    substitute: str

    @property
    def day(self) -> str:
        return self.date.strftime("%d")

    @property
    def month(self) -> str:
        return self.date.strftime("%m")


@dataclass
class SubjectPage:
    """One subject (or subgroup) of the class: a grid of pupils × lesson dates."""

    title: str
    teacher: str
    pupils: list[PupilLine]
    lessons: list[LessonColumn]
    #: (pupil id, lesson id) → what the cell shows: marks, then an absence code
    cells: dict[tuple[str, str], str] = field(default_factory=dict)
    absent: set[tuple[str, str]] = field(default_factory=set)
    period_marks: dict[str, str] = field(default_factory=dict)

    def chunks(self) -> list[list[LessonColumn]]:
        """The lesson columns in tables A4 landscape holds (at least one, maybe empty)."""
        n = COLUMNS_PER_TABLE
        return [self.lessons[i : i + n] for i in range(0, len(self.lessons), n)] or [[]]


@dataclass
class ClassJournal:
    school: str
    class_name: str
    period_name: str
    start: dt.date
    end: dt.date
    class_teacher: str
    pupils: list[PupilLine]
    subjects: list[SubjectPage]
    #: pupil id → absences per code
    absences: dict[str, Counter[str]]
    #: period marks: pupil id → subject title → value
    finals: dict[str, dict[str, str]]
    final_subjects: list[str]

    @property
    def span(self) -> str:
        return f"{text.day(self.start)} – {text.day(self.end)}"

    @property
    def lesson_count(self) -> int:
        return sum(len(s.lessons) for s in self.subjects)


def _pick_period(periods: Sequence[Period], parallel: int, asked: str) -> Period:
    for p in periods:
        if parallel in p.parallels:
            return p
    raise ReportError(f"the period {asked!r} does not cover parallel {parallel}")


def _pupil_name(p: Pupil) -> str:
    return join_fio(p.last_name, p.first_name, p.middle_name)


def read_journal(tx: Tx, school_id: str, class_name: str, period: str, school: str) -> ClassJournal:
    """Read the class's journal for the period from the store and lay it out for print."""
    roster = tx.queries.roster(school_id)
    classes = find_classes(roster, class_name)
    if len(classes) > 1:
        raise ReportError(f"several classes are named {class_name!r}: give the class's id")
    klass = classes[0]
    chosen = _pick_period(find_periods(roster, period), klass.parallel, period)
    span = Span(chosen.start, chosen.end)
    lessons = tx.queries.lessons(school_id, span, [klass.id])
    marks = tx.queries.marks(school_id, span, [klass.id])
    attendance = tx.queries.attendance(school_id, span, [klass.id])
    names = Names(tx, school_id, roster)
    members = {p.id for p in roster.pupils.values() if p.class_id == klass.id}
    seen = {m.pupil_id for m in marks} | {a.pupil_id for a in attendance}
    names.preload_pupils(seen - roster.pupils.keys())
    finals = tx.queries.final_marks(school_id, pupil_ids=members | seen)
    return lay_out(
        school=school,
        klass=klass,
        period=chosen,
        names=names,
        members=members,
        lessons=lessons,
        marks=marks,
        attendance=attendance,
        finals=[f for f in finals if f.period_id == chosen.id],
    )


def lay_out(
    *,
    school: str,
    klass: SchoolClass,
    period: Period,
    names: Names,
    members: set[str],
    lessons: Iterable[Lesson],
    marks: Iterable[Mark],
    attendance: Iterable[Attendance],
    finals: Iterable[FinalMark],
) -> ClassJournal:
    lessons = list(lessons)
    marks = list(marks)
    attendance = list(attendance)
    seen = members | {m.pupil_id for m in marks} | {a.pupil_id for a in attendance}
    pupils = _class_list(names, klass, seen, members)
    by_id = {p.id: p for p in pupils}

    groups: dict[tuple[str, str | None], list[Lesson]] = defaultdict(list)
    for le in lessons:
        groups[(le.subject_id, le.subgroup_id)].append(le)
    cell_marks: dict[tuple[str, str], list[str]] = defaultdict(list)
    for m in sorted(marks, key=lambda m: m.id):
        cell_marks[(m.pupil_id, m.lesson_id)].append(str(m.value))
    codes = {(a.pupil_id, a.lesson_id): str(a.code) for a in attendance}
    final_of: dict[tuple[str, str], str] = {
        (f.pupil_id, f.subject_id): str(f.value) for f in finals
    }

    pages: list[SubjectPage] = []
    for (subject_id, subgroup_id), group in sorted(
        groups.items(),
        key=lambda kv: (names.subject_name(kv[0][0]), names.subgroup_name(kv[0][1])),
    ):
        subgroup = names.roster.subgroups.get(subgroup_id or "")
        title = names.subject_name(subject_id)
        if subgroup_id:
            title += f" ({names.subgroup_name(subgroup_id)})"
        ids = {le.id for le in group}
        if subgroup is not None and subgroup.member_ids:
            who = set(subgroup.member_ids) | {p for (p, lid) in cell_marks if lid in ids}
        else:
            who = {p.id for p in pupils if p.id in members} | {
                p for (p, lid) in [*cell_marks, *codes] if lid in ids
            }
        page = SubjectPage(
            title=title,
            teacher=", ".join(
                sorted({names.teacher_short(le.teacher_id) for le in group if le.teacher_id})
            ),
            pupils=[p for p in pupils if p.id in who],
            lessons=[
                _column(names, le) for le in sorted(group, key=lambda le: (le.date, le.number))
            ],
        )
        for (pid, lid), values in cell_marks.items():
            if lid in ids:
                page.cells[(pid, lid)] = " ".join(values)
        for (pid, lid), code in codes.items():
            if lid in ids:
                shown = page.cells.get((pid, lid))
                page.cells[(pid, lid)] = f"{shown} {code}" if shown else code
                page.absent.add((pid, lid))
        for p in page.pupils:
            if (p.id, subject_id) in final_of:
                page.period_marks[p.id] = final_of[(p.id, subject_id)]
        pages.append(page)

    absences: dict[str, Counter[str]] = {p.id: Counter() for p in pupils}
    for (pid, _), code in codes.items():
        if pid in by_id:
            absences[pid][code] += 1
    subjects_final = sorted({names.subject_name(s) for (_, s) in final_of})
    finals_by_pupil: dict[str, dict[str, str]] = defaultdict(dict)
    for (pid, sid), value in final_of.items():
        finals_by_pupil[pid][names.subject_name(sid)] = value
    return ClassJournal(
        school=school,
        class_name=klass.name,
        period_name=period.name,
        start=period.start,
        end=period.end,
        class_teacher=names.teacher(klass.class_teacher_id),
        pupils=pupils,
        subjects=pages,
        absences=absences,
        finals=dict(finals_by_pupil),
        final_subjects=subjects_final,
    )


def _class_list(
    names: Names, klass: SchoolClass, seen: set[str], members: set[str]
) -> list[PupilLine]:
    found: list[tuple[str, str, str]] = []
    for pid in seen:
        p = names.roster.pupils.get(pid) or names.pupil_record(pid)
        if not isinstance(p, Pupil):
            continue
        if p.status == "left":
            note = f"выбыл(а) {text.day(p.left_date)}" if p.left_date else "выбыл(а)"
        elif pid not in members:
            note = f"сейчас в {names.class_name(p.class_id)}" if p.class_id else "не в классе"
        else:
            note = ""
        found.append((_pupil_name(p), pid, note))
    found.sort(key=lambda t: (text_sort(t[0]), t[1]))
    return [PupilLine(i, pid, name, note) for i, (name, pid, note) in enumerate(found, start=1)]


def text_sort(name: str) -> str:
    """Russian alphabetical order: «ё» with «е»."""
    return name.casefold().replace("ё", "е")


def _column(names: Names, le: Lesson) -> LessonColumn:
    return LessonColumn(
        id=le.id,
        date=le.date,
        number=le.number,
        topic=le.topic or "",
        homework=le.homework or "",
        teacher=names.teacher_short(le.teacher_id),
        substitute=names.teacher_short(le.substitute_teacher_id),
    )


__all__ = ["ABSENCE_CODES", "ClassJournal", "SubjectPage", "lay_out", "read_journal"]
