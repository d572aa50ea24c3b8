"""The О7 simulator over real HTTP on loopback: a dirty school as its manifest says, two records
for one pupil and lesson in a read, ``SaveMarks``/``SaveAbsences`` that update by ``ext_id``, and
latency."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.entities import Entity
from core.names import join_fio
from fixtures.generator import Dirt, generate_school
from fixtures.o7 import O7Sim, SimConfig, build_data, create_app
from fixtures.pace import Pace
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread


@pytest.fixture(scope="module")
def dirty() -> SchoolData:
    return generate_school(3, "tiny", dirt=Dirt.realistic())


@pytest.fixture(scope="module")
def clean() -> SchoolData:
    return generate_school(3, "tiny")


@contextlib.contextmanager
def served(sim: O7Sim) -> Iterator[httpx.Client]:
    with (
        serve_in_thread(create_app(sim)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        r = client.post("/auth/login", data={"login_login": "o7user", "login_password": "o7pass"})
        assert r.json()["success"] is True
        yield client


def call(http: httpx.Client, method: str, body: dict[str, Any]) -> Any:
    r = http.post(f"/api/{method}", json=body)
    assert r.status_code == 200
    return r.json()


def windows() -> list[tuple[str, str]]:
    """31-day windows over the tiny school's months."""
    out, day = [], dt.date(2025, 9, 1)
    while day <= dt.date(2025, 10, 31):
        end = day + dt.timedelta(days=30)
        out.append((day.strftime("%d.%m.%Y"), end.strftime("%d.%m.%Y")))
        day = end + dt.timedelta(days=1)
    return out


def read(http: httpx.Client, sim: O7Sim, method: str, key: str) -> list[dict[str, Any]]:
    out = []
    for c in sim.data.classes:
        for start, end in windows():
            body = {"class_id": c["class_id"], "date_from": start, "date_to": end}
            out += call(http, method, body)[key]
    return out


def pupils(http: httpx.Client, sim: O7Sim) -> dict[str, dict[str, Any]]:
    out = {}
    for c in sim.data.classes:
        for p in call(http, "PupilService/GetPupils", {"class_id": c["class_id"]})["pupils"]:
            out[p["pupil_guid"]] = p
    return out


def test_pupils_lessons_and_marks_as_the_manifest_says(dirty: SchoolData) -> None:
    sim = O7Sim(build_data(dirty))
    shown = dirty.manifest.shown("o7")
    people = {p.id: p for p in dirty.pupils}
    teachers = {t.id: t for t in dirty.teachers}
    with served(sim) as http:
        listed = pupils(http, sim)
        lessons = {
            x["lesson_guid"]: x for x in read(http, sim, "ScheduleService/GetLessons", "lessons")
        }
        marks = {x["mark_guid"]: x for x in read(http, sim, "MarkService/GetMarks", "marks")}
    checked = set()
    for e in dirty.manifest.select(system="o7"):
        if e.system != "o7":
            continue
        guid = next(r for r in dirty.records(e.entity) if r.id == e.record_id).ext_ids["o7"]
        if e.entity is Entity.PUPILS:
            p, dirt = people[e.record_id], shown[e.record_id]
            parts = [dirt.get(f, getattr(p, f)) for f in ("last_name", "first_name", "middle_name")]
            want = dirt.get("fio") or join_fio(*parts)
            assert listed[guid]["fio"] == want
            birth = dirt.get("birth_date", p.birth_date)
            assert listed[guid]["birthday"] == birth.strftime("%d.%m.%Y")
        elif e.entity is Entity.TEACHERS:
            t, dirt = teachers[e.record_id], shown[e.record_id]
            parts = [dirt.get(f, getattr(t, f)) for f in ("last_name", "first_name", "middle_name")]
            want = dirt.get("fio") or join_fio(*parts)
            taught = {les.ext_ids["o7"] for les in dirty.lessons if les.teacher_id == t.id}
            assert taught and {lessons[g]["teacher_fio"] for g in taught} == {want}
        elif e.entity is Entity.LESSONS:
            assert lessons[guid][e.field] == e.value
        elif e.entity is Entity.MARKS:
            assert marks[guid]["mark"] == e.value
        checked.add(e.case)
    assert checked >= {"invalid_marks", "long_topic", "first_grade_homework"}
    assert checked & {"latin_letters", "yo_e", "double_spaces", "missing_patronymic"}


def test_teachers_named_alike_share_one_fio_in_lessons(dirty: SchoolData) -> None:
    sim = O7Sim(build_data(dirty))
    pairs = dirty.manifest.select("namesake_teachers")
    teachers = {t.id: t for t in dirty.teachers}
    with served(sim) as http:
        lessons = read(http, sim, "ScheduleService/GetLessons", "lessons")
    names = {x["teacher_fio"] for x in lessons}
    for e in pairs:
        t = teachers[e.record_id]
        assert join_fio(t.last_name, t.first_name, t.middle_name) in names or not any(
            les.teacher_id == t.id for les in dirty.lessons
        )
    guid_of = {les.ext_ids["o7"]: les.teacher_id for les in dirty.lessons}
    by_fio: dict[str, set[str | None]] = {}
    for x in lessons:
        by_fio.setdefault(x["teacher_fio"], set()).add(guid_of[x["lesson_guid"]])
    assert any(len(ids) == 2 for ids in by_fio.values())  # one fio, two teachers


def test_withheld_pupils_are_unknown_until_released(dirty: SchoolData) -> None:
    sim = O7Sim(build_data(dirty))
    withheld = {p.ext_ids["o7"] for p in dirty.pupils if p.id in dirty.manifest.withheld()}
    assert withheld
    with served(sim) as http:
        assert not withheld & set(pupils(http, sim))
        marked = {m["pupil_guid"] for m in read(http, sim, "MarkService/GetMarks", "marks")}
        assert withheld <= marked
        lesson = next(iter(sim.data.lesson_class))
        item = {"ext_id": "w1", "pupil_guid": next(iter(withheld)), "lesson_guid": lesson}
        answer = call(http, "MarkService/SaveMarks", {"marks": [{**item, "mark": "5"}]})
        assert answer["errors"] == [{"ext_id": "w1", "message": "Ученик не найден"}]
        assert sim.release_withheld() == len(withheld)
        assert withheld <= set(pupils(http, sim))


def test_two_absences_of_one_pupil_at_one_lesson_the_stale_one_first(clean: SchoolData) -> None:
    sim = O7Sim(build_data(clean), SimConfig(duplicate_rate=1.0, seed=2))
    with served(sim) as http:
        cid = sim.data.classes[1]["class_id"]
        body = {"class_id": cid, "date_from": "01.09.2025", "date_to": "30.09.2025"}
        absences = call(http, "AttendanceService/GetAbsences", body)["absences"]
        marks = call(http, "MarkService/GetMarks", body)["marks"]
    truth = {
        (a["pupil_guid"], a["lesson_guid"]): a
        for v in sim.data.absences.values()
        for a in v.values()
    }
    keys = [(a["pupil_guid"], a["lesson_guid"]) for a in absences]
    (twice,) = [k for k in set(keys) if keys.count(k) == 2]
    first, last = (a for a in absences if (a["pupil_guid"], a["lesson_guid"]) == twice)
    assert last == truth[twice] and first["reason"] != last["reason"]
    guids = [m["mark_guid"] for m in marks]
    assert len(guids) == len(set(guids)) + 1
    assert [m[0] for m in sim.duplicated] == [
        "AttendanceService/GetAbsences",
        "MarkService/GetMarks",
    ]


def _save(http: httpx.Client, method: str, key: str, items: list[dict[str, Any]]) -> Any:
    return call(http, method, {key: items})


def test_an_edited_mark_pushed_again_with_its_ext_id_is_one_mark_with_the_new_value(
    clean: SchoolData,
) -> None:
    sim = O7Sim(build_data(clean))
    cid = sim.data.classes[1]["class_id"]
    lesson = sim.data.lessons[cid][0]
    pupil = sim.data.pupils[cid][0]["pupil_guid"]
    body = {"class_id": cid, "date_from": lesson["date"], "date_to": lesson["date"]}
    item = {
        "ext_id": "gw-mark-1",
        "pupil_guid": pupil,
        "lesson_guid": lesson["lesson_guid"],
        "mark_type": "Ответ на уроке",
    }
    with served(sim) as http:
        before = call(http, "MarkService/GetMarks", body)["marks"]
        first = _save(http, "MarkService/SaveMarks", "marks", [{**item, "mark": "3"}])
        edited = _save(http, "MarkService/SaveMarks", "marks", [{**item, "mark": "5"}])
        after = call(http, "MarkService/GetMarks", body)["marks"]
        other = _save(
            http, "MarkService/SaveMarks", "marks", [{**item, "ext_id": "gw-2", "mark": "4"}]
        )
        more = call(http, "MarkService/GetMarks", body)["marks"]
    guid = first["saved"][0]["mark_guid"]
    assert edited["saved"] == [{"ext_id": "gw-mark-1", "mark_guid": guid}]
    assert len(after) == len(before) + 1
    assert [m["mark"] for m in after if m["mark_guid"] == guid] == ["5"]
    assert len(more) == len(after) + 1 and other["saved"][0]["mark_guid"] != guid


def test_save_absences_updates_by_ext_id_and_only_by_it(clean: SchoolData) -> None:
    sim = O7Sim(build_data(clean))
    cid = sim.data.classes[1]["class_id"]
    lesson = sim.data.lessons[cid][0]
    pupil, other = (p["pupil_guid"] for p in sim.data.pupils[cid][:2])
    sim.data.absences.setdefault(lesson["lesson_guid"], {}).pop(other, None)
    sim.data.absences[lesson["lesson_guid"]][other] = {  # О7's own absence of the other pupil
        "pupil_guid": other,
        "lesson_guid": lesson["lesson_guid"],
        "reason": "Б",
        "changed": "01.09.2025 10:00:00",
    }
    sim.data.absences[lesson["lesson_guid"]].pop(pupil, None)
    body = {"class_id": cid, "date_from": lesson["date"], "date_to": lesson["date"]}

    def of(absences: list[dict[str, Any]], who: str) -> list[str]:
        return [
            a["reason"]
            for a in absences
            if a["pupil_guid"] == who and a["lesson_guid"] == lesson["lesson_guid"]
        ]

    item = {"pupil_guid": pupil, "lesson_guid": lesson["lesson_guid"]}
    with served(sim) as http:
        _save(
            http,
            "AttendanceService/SaveAbsences",
            "absences",
            [{**item, "ext_id": "a1", "reason": "Н"}],
        )
        _save(
            http,
            "AttendanceService/SaveAbsences",
            "absences",
            [{**item, "ext_id": "a1", "reason": "У"}],
        )
        once = call(http, "AttendanceService/GetAbsences", body)["absences"]
        _save(
            http,
            "AttendanceService/SaveAbsences",
            "absences",
            [{**item, "ext_id": "a2", "reason": "Б"}],
        )
        twice = call(http, "AttendanceService/GetAbsences", body)["absences"]
        mine = {"pupil_guid": other, "lesson_guid": lesson["lesson_guid"], "ext_id": "a3"}
        _save(http, "AttendanceService/SaveAbsences", "absences", [{**mine, "reason": "У"}])
        replaced = call(http, "AttendanceService/GetAbsences", body)["absences"]
    assert of(once, pupil) == ["У"]  # the same ext_id updates the absence it made
    assert sorted(of(twice, pupil)) == ["Б", "У"]  # another ext_id is another absence
    assert of(replaced, other) == ["У"]  # a push takes the place of О7's own absence


def test_every_answer_waits_the_latency(clean: SchoolData) -> None:
    sim = O7Sim(build_data(clean), SimConfig(pace=Pace(latency_ms=150)))
    with served(sim) as http:
        for _ in range(2):
            started = time.perf_counter()
            call(http, "SchoolService/GetClasses", {"school_id": sim.data.school_guid})
            assert time.perf_counter() - started >= 0.15


def test_no_rate_limit_and_no_duplicates_by_default(clean: SchoolData) -> None:
    with pytest.raises(ValueError, match="no rate limit"):
        O7Sim(build_data(clean), SimConfig(pace=Pace(rate_limit=10)))
    sim = O7Sim(build_data(clean))
    with served(sim) as http:
        absences = read(http, sim, "AttendanceService/GetAbsences", "absences")
    keys = [(a["pupil_guid"], a["lesson_guid"]) for a in absences]
    assert len(keys) == len(set(keys)) and not sim.duplicated
