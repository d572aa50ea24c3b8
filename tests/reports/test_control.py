"""The journal-control report end to end over a store (SQLite and PostgreSQL): every seeded
finding exactly once, in its section, in all four formats; clean classes said to be clean; a
month's report; a fixed number of statements whatever the school's size."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import event

from core.entities import Entity
from mapping.model import Lesson, Mark
from reports.control import FORMATS, ControlSettings, write_control
from reports.control.model import SECTIONS
from reports.errors import ReportError
from store import Store
from sync.rules import Deadlines
from tests.reports import control_world as cw
from tests.reports.control_readback import READERS, text_of

TZ = zoneinfo.ZoneInfo(cw.TZ_NAME)


def make(store: Store, fmt: str, out: Path, **kw: object) -> Path:
    kw.setdefault("period", "I четверть")
    write_control(
        store, cw.SCHOOL, fmt, out, tz=TZ, deadlines=Deadlines(timezone=TZ),
        school_name="МБОУ СОШ № 7", now=cw.NOW, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return out


@pytest.fixture
def world(store: Store) -> cw.ControlWorld:
    return cw.build(store)


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_seeded_finding_once_in_its_section(
    world: cw.ControlWorld, tmp_path: Path, fmt: str
) -> None:
    out = make(world.store, fmt, tmp_path / f"control.{fmt}")
    found = READERS[fmt](out)
    assert found == Counter(world.expected), sorted(found)
    assert {s for s, _ in found} == set(SECTIONS)  # every section shown, each with one seed
    said = text_of(out)
    assert "5Б: замечаний нет." in said
    assert "1А: замечаний нет." in said
    assert "5А: 10 замечаний" in said
    assert "Замечаний: 10" in said
    # the rule used for period marks is stated
    assert "средневзвешенной текущих отметок" in said


def test_json_says_who_when_and_old_new(world: cw.ControlWorld, tmp_path: Path) -> None:
    data = json.loads(make(world.store, "json", tmp_path / "c.json").read_text("utf-8"))
    changed = {r["key"].split("@")[0]: r for r in data["sections"]["changed_mark"]}
    fix, gone = changed["M-A1-FIX"], changed["M-A1-DEL"]
    assert (fix["old"], fix["new"]) == ("4", "5")
    assert fix["who"].startswith(cw.ACTOR) and "журнал шлюза" in fix["who"]
    assert gone["new"] == "удалена" and gone["old"].startswith("3")
    assert fix["pupil"] == "Алексеев Антон" and fix["date"] == "2025-09-10"
    assert dt.datetime.strptime(fix["when"], "%d.%m.%Y %H:%M")  # the school's time, DD.MM.YYYY
    period = data["sections"]["period_mark"][0]
    assert (period["old"], period["new"]) == ("4", "5")  # follows / stands
    assert "3,50" in period["what"]
    late = data["sections"]["late_mark"][0]
    assert late["when"] == "25.09.2025 15:00" and "на 5 дн. позже" in late["what"]
    # the heat map's numbers: 5А mathematics — one pupil of four at the norm
    assert data["accumulation"]["5А"]["Математика"] == pytest.approx(0.25)
    assert data["accumulation"]["5Б"] == {"Математика": 1.0, "Русский язык": 1.0}
    assert data["marks_per_week"]["5Б"] == {"2025-09-08": 9, "2025-09-15": 3, "2025-09-22": 6}
    paints = {(c["class"], c["subject"]): c["paint"] for c in data["courses"]}
    assert paints[("5А", "Математика")]["accumulation"] == "bad"
    assert paints[("5Б", "Математика")]["accumulation"] == "good"
    assert paints[("5А", "Математика")]["changed_mark"] == "warn"  # 2 < count_bad 3


def test_month_report_leaves_period_marks_to_the_period(
    world: cw.ControlWorld, tmp_path: Path
) -> None:
    data = json.loads(
        make(world.store, "json", tmp_path / "m.json", period=None, month="2025-09").read_text(
            "utf-8"
        )
    )
    assert data["scope"]["kind"] == "month" and data["scope"]["periods"] == []
    got = {(s, r["key"]) for s, rows in data["sections"].items() for r in rows}
    assert got == {x for x in world.expected if x[0] != "period_mark"}


def test_thresholds_come_from_settings(world: cw.ControlWorld, tmp_path: Path) -> None:
    # with one mark a quarter as the norm for any load, nobody with marks is below it
    lenient = ControlSettings(min_marks_per_quarter={1: 1}, count_bad=2)
    data = json.loads(
        make(world.store, "json", tmp_path / "l.json", settings=lenient).read_text("utf-8")
    )
    assert data["sections"]["below_norm"] == []
    paints = {(c["class"], c["subject"]): c["paint"] for c in data["courses"]}
    assert paints[("5А", "Математика")]["changed_mark"] == "bad"  # 2 ≥ count_bad 2


def test_unknown_period_is_a_report_error(world: cw.ControlWorld, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no period 'III четверть'"):
        make(world.store, "json", tmp_path / "x.json", period="III четверть")


def _statements(store: Store, tmp_path: Path) -> int:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        make(store, "json", tmp_path / "q.json")
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return len(seen)


def test_statements_do_not_grow_with_the_school(world: cw.ControlWorld, tmp_path: Path) -> None:
    before = _statements(world.store, tmp_path)
    # a fourth week of lessons and marks for every 5th-grade pupil
    week = dt.date(2025, 9, 29)
    lessons = [
        Lesson(id=f"X-{c}-{d}", school_id=cw.SCHOOL, class_id=c, subject_id="MATH",
               teacher_id="T1", date=week + dt.timedelta(days=d), number=2, topic="т",
               homework="д")
        for c in ("5A", "5B") for d in range(5)
    ]  # fmt: skip
    marks = [
        Mark(id=f"XM-{le.id}-{p}", school_id=cw.SCHOOL, pupil_id=p, lesson_id=le.id, value="4")  # type: ignore[arg-type]
        for le in lessons
        for p in (("A1", "A2", "A3", "A4") if le.class_id == "5A" else ("B1", "B2", "B3"))
    ]
    with world.store.begin() as tx:
        tx.records.upsert(Entity.LESSONS, lessons, source="es2")
        tx.records.upsert(Entity.MARKS, marks, source="es2")
    assert _statements(world.store, tmp_path) == before
