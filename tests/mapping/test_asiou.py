from __future__ import annotations

import datetime as dt

import pytest

from connectors.asiou import iter_pages
from core.entities import Entity
from core.errors import RecordError
from mapping.asiou import format_parallels, parse_parallels, to_canonical, to_wire
from mapping.model import FinalMark, Lesson, Mark, Period, Pupil, Subgroup, Tombstone
from tests.connectors.asiou.packages import mark, package


def wire_records() -> dict[Entity, dict[str, object]]:
    out: dict[Entity, dict[str, object]] = {}
    for page in iter_pages([package()]):
        for rec in page.records:
            out[page.entity] = rec
    return out


W = wire_records()


def test_period_codes_and_parallel_ranges() -> None:
    p = to_canonical(Entity.PERIODS, W[Entity.PERIODS], school_id="s")
    assert isinstance(p, Period)
    assert p.kind == "quarter" and p.parallels == tuple(range(2, 10)) and p.id == "asiou:P1"
    assert p.ext_ids == {"asiou": "P1"}


def test_pupil_status_empty_attributes_and_time_in_utc() -> None:
    p = to_canonical(Entity.PUPILS, W[Entity.PUPILS], school_id="s")
    assert isinstance(p, Pupil)
    assert p.status == "active" and p.snils is None and p.left_date is None
    assert p.class_id == "asiou:C5A"
    assert p.modified_at == dt.datetime(2025, 9, 1, 7, 0, tzinfo=dt.UTC)


def test_lesson_subgroup_mark_final_and_attendance() -> None:
    lesson = to_canonical(Entity.LESSONS, W[Entity.LESSONS], school_id="s")
    assert isinstance(lesson, Lesson)
    assert lesson.subgroup_id == "asiou:G88" and lesson.substitute_teacher_id is None
    assert lesson.homework is None and lesson.number == 3
    sg = to_canonical(Entity.SUBGROUPS, W[Entity.SUBGROUPS], school_id="s")
    assert isinstance(sg, Subgroup) and sg.member_ids == ("asiou:U55001",)
    m = to_canonical(Entity.MARKS, W[Entity.MARKS], school_id="s")
    assert isinstance(m, Mark) and str(m.value) == "5" and m.weight == 2
    assert m.work_type == "Контрольная работа"
    f = to_canonical(Entity.FINAL_MARKS, W[Entity.FINAL_MARKS], school_id="s")
    assert isinstance(f, FinalMark) and f.kind == "period" and f.period_id == "asiou:P1"
    a = to_canonical(None, W[Entity.ATTENDANCE], school_id="s")  # entity from the element
    assert a.entity is Entity.ATTENDANCE


def test_deleted_record_is_a_tombstone() -> None:
    wire = next(
        r
        for p in iter_pages([package(marks=(mark("M9", deleted="1"),))])
        for r in p.records
        if p.entity is Entity.MARKS
    )
    t = to_canonical(Entity.MARKS, wire, school_id="s")
    assert isinstance(t, Tombstone) and t.id == "asiou:M9"


@pytest.mark.parametrize(
    ("entity", "field", "value", "personal"),
    [
        (Entity.MARKS, "Значение", "6", False),  # a mark value is no personal datum
        (Entity.ATTENDANCE, "Причина", "Х", True),
        (Entity.PUPILS, "Статус", "переведён", True),
        (Entity.PUPILS, "ДатаРождения", "12.03.2014", True),
        (Entity.PUPILS, "Фамилия", "", True),
        (Entity.PERIODS, "Параллели", "пять", True),
    ],
)
def test_bad_values_name_the_record_and_never_personal_data(
    entity: Entity, field: str, value: str, personal: bool
) -> None:
    wire = {**W[entity], field: value}
    with pytest.raises(RecordError) as err:
        to_canonical(entity, wire, school_id="s")
    text = str(err.value)
    assert str(wire["Ид"]) in text and err.value.field is not None
    if personal and value:
        assert value not in text
    assert "Иванова" not in text and "Мария" not in text


def test_parallels_round_trip() -> None:
    assert parse_parallels("2-4,10,11") == (2, 3, 4, 10, 11)
    assert format_parallels((2, 3, 4, 10, 11)) == "2-4,10-11"


def test_to_wire_round_trips_through_resolve_ext() -> None:
    m = to_canonical(Entity.MARKS, W[Entity.MARKS], school_id="s")
    assert isinstance(m, Mark)
    local = m.model_copy(update={"pupil_id": "gw-pupil", "lesson_id": "asiou:L900001"})
    wire = to_wire(local, resolve_ext=lambda e, gid: "U55001" if gid == "gw-pupil" else None)
    assert wire == {
        "Учащийся": "U55001",
        "Урок": "L900001",
        "Значение": "5",
        "ВидРаботы": "Контрольная работа",
        "Вес": "2",
    }
    with pytest.raises(RecordError):
        to_wire(local, resolve_ext=lambda e, gid: None)


def test_to_wire_final_mark_codes() -> None:
    f = to_canonical(Entity.FINAL_MARKS, W[Entity.FINAL_MARKS], school_id="s")
    assert isinstance(f, FinalMark)
    wire = to_wire(
        f.model_copy(update={"kind": "year", "period_id": None}), resolve_ext=lambda e, g: None
    )
    assert wire["Вид"] == "год" and wire["Период"] == ""
