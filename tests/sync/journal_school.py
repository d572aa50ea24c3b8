"""A small school written straight into a store, for the local journal's tests: two quarters,
a first grade, two fifth grades and a tenth grade, pupils who left or arrived during the term,
lessons on both sides of the first quarter's end, and a few marks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.entities import Entity
from mapping.model import (
    Enrolment,
    FinalMark,
    Lesson,
    Mark,
    Period,
    Pupil,
    Record,
    SchoolClass,
    Subject,
)
from store import Store
from sync.journal import Journal
from sync.rules import Deadlines

SCHOOL = "s1"
UTC = dt.UTC
#: a school in Moscow time: what the journal's deadlines count in
MSK = dt.timezone(dt.timedelta(hours=3))
Q1_END = dt.date(2025, 10, 26)
TARGETS = {e: ("es2",) for e in (Entity.MARKS, Entity.ATTENDANCE, Entity.LESSONS)}


def _base(rid: str) -> dict[str, Any]:
    return {"id": rid, "school_id": SCHOOL}


def roster() -> list[Record]:
    year = "2025/2026"
    return [
        Period(**_base("Q1"), name="I четверть", kind="quarter", parallels=(1, 5, 10),
               start=dt.date(2025, 9, 1), end=Q1_END),
        Period(**_base("Q2"), name="II четверть", kind="quarter", parallels=(1, 5, 10),
               start=dt.date(2025, 11, 5), end=dt.date(2025, 12, 28)),
        Subject(**_base("S1"), name="Математика"),
        SchoolClass(**_base("C1"), name="1А", parallel=1, year=year),
        SchoolClass(**_base("C5A"), name="5А", parallel=5, year=year),
        SchoolClass(**_base("C5B"), name="5Б", parallel=5, year=year),
        SchoolClass(**_base("C10"), name="10А", parallel=10, year=year),
        _pupil("P1", "C1"),
        _pupil("P5", "C5A"),
        _pupil("P5B", "C5B"),
        _pupil("P10", "C10"),
        _pupil("Pleft", "C5A", status="left", left_date=dt.date(2025, 10, 10)),
        _pupil("Pnew", "C5A"),
        _pupil("Pmoved", "C5B"),
        Enrolment(**_base("E1"), pupil_id="Pnew", kind="admission", date=dt.date(2025, 10, 15),
                  to_class_id="C5A"),
        Enrolment(**_base("E2"), pupil_id="Pmoved", kind="admission", date=dt.date(2025, 9, 1),
                  to_class_id="C5A"),
        Enrolment(**_base("E3"), pupil_id="Pmoved", kind="transfer", date=dt.date(2025, 10, 14),
                  from_class_id="C5A", to_class_id="C5B"),
        _lesson("L1", "C1", dt.date(2025, 10, 14)),
        _lesson("L5", "C5A", dt.date(2025, 10, 14)),
        _lesson("L5early", "C5A", dt.date(2025, 10, 1)),
        _lesson("L5late", "C5A", dt.date(2025, 11, 10)),
        _lesson("L5B", "C5B", dt.date(2025, 11, 10)),
        _lesson("L5Bearly", "C5B", dt.date(2025, 10, 1)),
        _lesson("L10", "C10", dt.date(2025, 11, 10)),
        mark("Mq1", "P5", "L5early", "4"),
        mark("Mq2", "P5", "L5late", "4"),
        FinalMark(**_base("F1"), pupil_id="P5", subject_id="S1", period_id="Q1", kind="period",
                  value="4"),  # type: ignore[arg-type]
    ]  # fmt: skip


def _pupil(rid: str, class_id: str, **kw: Any) -> Pupil:
    return Pupil(
        **_base(rid),
        last_name="Иванов",
        first_name="Иван",
        birth_date=dt.date(2014, 3, 12),
        class_id=class_id,
        **kw,
    )


def _lesson(rid: str, class_id: str, day: dt.date, **kw: Any) -> Lesson:
    return Lesson(**_base(rid), class_id=class_id, subject_id="S1", date=day, number=2, **kw)


def mark(rid: str, pupil: str, lesson: str, value: str = "5", **kw: Any) -> Mark:
    return Mark(**_base(rid), pupil_id=pupil, lesson_id=lesson, value=value, **kw)  # type: ignore[arg-type]


def seed(store: Store, records: list[Record] | None = None) -> None:
    """Write the school as if a system had brought it."""
    by_entity: dict[Entity, list[Record]] = {}
    for rec in records or roster():
        by_entity.setdefault(rec.entity, []).append(rec)
    with store.begin() as tx:
        for entity in Entity:
            if entity in by_entity:
                tx.records.upsert(entity, by_entity[entity], source="es2")


def journal(store: Store, now: dt.datetime | None = None) -> Journal:
    """The school's journal with a fixed clock (by default the day after the lessons of the
    second quarter began)."""
    at = now or dt.datetime(2025, 11, 10, 12, tzinfo=MSK)
    return Journal(store, SCHOOL, TARGETS, deadlines=Deadlines(timezone=MSK), clock=lambda: at)


def stored(store: Store, entity: Entity, rid: str) -> Record | None:
    with store.read() as tx:
        return tx.records.get(entity, [rid]).get(rid)


def close(store: Store, period_id: str) -> None:
    """Close a period as a person would (the periods command)."""
    from sync.periods import close_period

    close_period(store, period_id, by="завуч")
