"""A small school written into a store for the journal-control report, with every kind of
finding seeded exactly once in 5А, a clean 5Б and a first grade (no marks, no homework):

three school weeks of September 2025 in «I четверть» (01.09–26.10); mathematics three lessons a
week (norm for 3 h/week over 3 weeks: ceil(7 × 3 / 9) = 3 marks), Russian one a week (norm 1).
In 5А: a pupil with no mathematics mark, one with a single mark, one with two (below the norm),
a lesson without a topic, one without homework, an «Н» without reason, a test mark entered ten
days after its lesson (deadline 5), a mark corrected and another deleted by a teacher, a period
mark «5» where the marks average 3.5 (→ 4), a substitution."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.entities import Entity
from mapping.model import (
    Attendance,
    FinalMark,
    Lesson,
    Mark,
    Period,
    Pupil,
    Record,
    SchoolClass,
    Subject,
    Teacher,
)
from store import Store

SCHOOL = "cs1"
TZ_NAME = "Europe/Moscow"
MSK = dt.timezone(dt.timedelta(hours=3))
#: the report is made the day after the quarter ends
NOW = dt.datetime(2025, 10, 27, 9, tzinfo=MSK)
WEEKS = (dt.date(2025, 9, 8), dt.date(2025, 9, 15), dt.date(2025, 9, 22))
ACTOR = "Петрова А. С."

#: (section, key) of each seeded finding: what every format must show, once
EXPECTED = {
    ("no_marks", "A2:MATH"),
    ("one_mark", "A3:MATH"),
    ("below_norm", "A4:MATH"),
    ("no_topic", "5A-MATH-2025-09-17"),
    ("no_homework", "5A-RUS-2025-09-23"),
    ("absence_no_reason", "ABS-A2"),
    ("late_mark", "M-A1-KR"),
    ("changed_mark", "M-A1-FIX@"),  # the audit id follows the @
    ("changed_mark", "M-A1-DEL@"),
    ("period_mark", "F-A4-MATH"),
    ("substitution", "5A-MATH-2025-09-19"),
}


def _b(rid: str) -> dict[str, Any]:
    return {"id": rid, "school_id": SCHOOL}


def _at(day: dt.date, hour: int = 15) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), MSK)


@dataclass
class ControlWorld:
    store: Store
    #: the seeded keys with the audit ids filled in
    expected: set[tuple[str, str]]


def _lessons(class_id: str, parallel: int) -> list[Lesson]:
    out = []
    for week in WEEKS:
        days = [("MATH", week + dt.timedelta(days=d), 2) for d in (0, 2, 4)]
        if parallel > 1:
            days.append(("RUS", week + dt.timedelta(days=1), 3))
        else:
            days = days[:1]
        for subject, day, number in days:
            rid = f"{class_id}-{subject}-{day.isoformat()}"
            teacher = "T1" if subject == "MATH" else "T2"
            out.append(
                Lesson(
                    **_b(rid),
                    class_id=class_id,
                    subject_id=subject,
                    teacher_id=teacher,
                    date=day,
                    number=number,
                    topic=f"Тема урока {day.strftime('%d.%m')}",
                    homework=None if parallel == 1 else f"№ {day.day}",
                )
            )
    return out


def _mark(rid: str, pupil: str, lesson: Lesson, value: str, **kw: Any) -> Mark:
    kw.setdefault("created_at", _at(lesson.date))
    kw.setdefault("work_type", "Ответ на уроке")
    return Mark(**_b(rid), pupil_id=pupil, lesson_id=lesson.id, value=value, **kw)  # type: ignore[arg-type]


def records() -> tuple[list[Record], dict[str, Lesson]]:
    year = "2025/2026"
    roster: list[Record] = [
        Period(**_b("Q1"), name="I четверть", kind="quarter", parallels=(1, 5),
               start=dt.date(2025, 9, 1), end=dt.date(2025, 10, 26)),
        Period(**_b("Q2"), name="II четверть", kind="quarter", parallels=(1, 5),
               start=dt.date(2025, 11, 5), end=dt.date(2025, 12, 28)),
        Subject(**_b("MATH"), name="Математика"),
        Subject(**_b("RUS"), name="Русский язык"),
        Teacher(**_b("T1"), last_name="Петрова", first_name="Анна", middle_name="Сергеевна"),
        Teacher(**_b("T2"), last_name="Соколов", first_name="Игорь", middle_name="Петрович"),
        Teacher(**_b("T3"), last_name="Орлова", first_name="Мария", middle_name="Ивановна"),
        SchoolClass(**_b("5A"), name="5А", parallel=5, year=year),
        SchoolClass(**_b("5B"), name="5Б", parallel=5, year=year),
        SchoolClass(**_b("1A"), name="1А", parallel=1, year=year),
    ]  # fmt: skip
    names = {
        "A1": ("Алексеев", "Антон"), "A2": ("Борисова", "Вера"), "A3": ("Громов", "Денис"),
        "A4": ("Ершова", "Жанна"), "B1": ("Зайцев", "Илья"), "B2": ("Козлова", "Лидия"),
        "B3": ("Морозов", "Никита"), "C1": ("Новиков", "Олег"), "C2": ("Павлова", "Рита"),
    }  # fmt: skip
    for pid, (last, first) in names.items():
        cls = {"A": "5A", "B": "5B", "C": "1A"}[pid[0]]
        roster.append(
            Pupil(**_b(pid), last_name=last, first_name=first, birth_date=dt.date(2014, 5, 1),
                  class_id=cls)
        )  # fmt: skip
    lessons: dict[str, Lesson] = {}
    for cid, parallel in (("5A", 5), ("5B", 5), ("1A", 1)):
        for le in _lessons(cid, parallel):
            lessons[le.id] = le
    # the faults of 5А's lessons
    lessons["5A-MATH-2025-09-17"] = lessons["5A-MATH-2025-09-17"].model_copy(update={"topic": None})
    lessons["5A-RUS-2025-09-23"] = lessons["5A-RUS-2025-09-23"].model_copy(
        update={"homework": None}
    )
    lessons["5A-MATH-2025-09-19"] = lessons["5A-MATH-2025-09-19"].model_copy(
        update={"substitute_teacher_id": "T3"}
    )
    roster.extend(lessons.values())
    return roster, lessons


def marks(lessons: dict[str, Lesson]) -> list[Record]:
    def math(cid: str, i: int) -> Lesson:
        week, d = divmod(i, 3)
        return lessons[f"{cid}-MATH-{(WEEKS[week] + dt.timedelta(days=(0, 2, 4)[d])).isoformat()}"]

    def rus(cid: str, i: int) -> Lesson:
        return lessons[f"{cid}-RUS-{(WEEKS[i] + dt.timedelta(days=1)).isoformat()}"]

    out: list[Record] = []
    for pid in ("A1", "A2", "A3", "A4", "B1", "B2", "B3"):
        cid = "5A" if pid[0] == "A" else "5B"
        out.append(_mark(f"M-{pid}-R1", pid, rus(cid, 0), "4"))
        out.append(_mark(f"M-{pid}-R2", pid, rus(cid, 2), "5"))
    for pid in ("B1", "B2", "B3"):
        for i, v in enumerate(("5", "4", "4", "5")):
            out.append(_mark(f"M-{pid}-M{i}", pid, math("5B", i * 2), v))
    # A1: three marks (one a test entered ten days after its lesson), one more to be deleted
    out.append(_mark("M-A1-1", "A1", math("5A", 0), "5"))
    out.append(_mark("M-A1-FIX", "A1", math("5A", 1), "4"))
    kr = math("5A", 3)
    out.append(
        _mark("M-A1-KR", "A1", kr, "4", work_type="Контрольная работа", weight=2,
              created_at=_at(kr.date + dt.timedelta(days=10)))
    )  # fmt: skip
    out.append(_mark("M-A1-DEL", "A1", math("5A", 4), "3"))
    # A2: no mathematics mark; A3: one; A4: two (3 and 4, average 3.5)
    out.append(_mark("M-A3-1", "A3", math("5A", 2), "3"))
    out.append(_mark("M-A4-1", "A4", math("5A", 5), "3"))
    out.append(_mark("M-A4-2", "A4", math("5A", 6), "4"))
    # absences: an «Н» without reason in 5А, a reasoned «У» in 5Б
    out.append(Attendance(**_b("ABS-A2"), pupil_id="A2", lesson_id=math("5A", 1).id, code="Н"))  # type: ignore[arg-type]
    out.append(Attendance(**_b("ABS-A3"), pupil_id="A3", lesson_id=math("5A", 4).id, code="Б"))  # type: ignore[arg-type]
    out.append(Attendance(**_b("ABS-B1"), pupil_id="B1", lesson_id=math("5B", 1).id, code="У"))  # type: ignore[arg-type]
    # period marks: A1 follows from its marks (5, 5, 4×2 → 4.5 → 5); A4's does not (3.5 → 4)
    out.append(
        FinalMark(
            **_b("F-A1-MATH"),
            pupil_id="A1",
            subject_id="MATH",
            period_id="Q1",
            kind="period",
            value="5",
        )
    )  # type: ignore[arg-type]
    out.append(
        FinalMark(
            **_b("F-A4-MATH"),
            pupil_id="A4",
            subject_id="MATH",
            period_id="Q1",
            kind="period",
            value="5",
        )
    )  # type: ignore[arg-type]
    out.append(
        FinalMark(
            **_b("F-B1-MATH"),
            pupil_id="B1",
            subject_id="MATH",
            period_id="Q1",
            kind="period",
            value="5",
        )
    )  # type: ignore[arg-type]
    return out  # fmt: skip


def build(store: Store) -> ControlWorld:
    roster, lessons = records()
    by_entity: dict[Entity, list[Record]] = {}
    for rec in [*roster, *marks(lessons)]:
        by_entity.setdefault(rec.entity, []).append(rec)
    with store.begin() as tx:
        for entity in Entity:
            if entity in by_entity:
                tx.records.upsert(entity, by_entity[entity], source="es2")
        fixed = tx.records.get(Entity.MARKS, ["M-A1-FIX"])["M-A1-FIX"]
        tx.records.upsert(
            Entity.MARKS, [fixed.model_copy(update={"value": "5"})], source="local", actor=ACTOR
        )
        tx.records.delete(Entity.MARKS, ["M-A1-DEL"], source="local", actor=ACTOR)
    expected = set()
    for section, key in EXPECTED:
        if key.endswith("@"):
            op = "delete" if key.startswith("M-A1-DEL") else "update"
            expected.add((section, f"{key}{_audit_id(store, key[:-1], op)}"))
        else:
            expected.add((section, key))
    return ControlWorld(store, expected)


def _audit_id(store: Store, record_id: str, op: str) -> int:
    from sqlalchemy import select

    from store.records import AUDIT

    with store.read() as tx:
        return int(
            tx.conn.execute(
                select(AUDIT.c.id).where(AUDIT.c.record_id == record_id, AUDIT.c.op == op)
            ).scalar_one()
        )
