from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from connectors.base import WHOLE, Page, PushItem, Scope
from connectors.o7 import O7Connector, O7Session, _connector, parse_date
from connectors.o7._connector import CAPABILITIES
from connectors.o7._windows import MAX_WINDOW_DAYS
from core.entities import Entity
from core.errors import ConfigError, TransientError
from schoolgate.config import SecretRef, SystemConfig
from tests.connectors.o7.conftest import BASE, Wire, html_500

CLASSES = [
    {"class_id": "c1", "class_name": "5 А", "grade": 5, "class_teacher_fio": "Ким Ли"},
    {"class_id": "c2", "class_name": "6 Б", "grade": 6, "class_teacher_fio": "Ли Ким"},
]


def _dated(key: str) -> Any:
    def handler(body: dict[str, Any]) -> dict[str, Any]:
        start, end = parse_date(body["date_from"]), parse_date(body["date_to"])
        assert (end - start).days + 1 <= MAX_WINDOW_DAYS  # we never ask for more
        return {key: [{"guid": f"{body['class_id']}:{body['date_from']}"}]}

    return handler


@pytest.fixture
def connector(wire: Wire, session: O7Session) -> O7Connector:
    wire.handlers["SchoolService/GetClasses"] = lambda b: {"classes": CLASSES}
    wire.handlers["ScheduleService/GetLessons"] = _dated("lessons")
    wire.handlers["MarkService/GetMarks"] = _dated("marks")
    wire.handlers["AttendanceService/GetAbsences"] = _dated("absences")
    wire.handlers["PupilService/GetPupils"] = lambda b: {
        "pupils": [
            {
                "pupil_guid": f"p-{b['class_id']}",
                "fio": "А Б",
                "birthday": "01.01.2014",
                "status": "учится",
                "subgroups": [{"discipline": "Информатика", "name": "Группа 1"}],
            }
        ]
    }
    wire.handlers["MarkService/GetTotalMarks"] = lambda b: {
        "period_marks": [
            {
                "pupil_guid": f"p-{b['class_id']}",
                "discipline": "Физика",
                "subperiod_code": "1ч",
                "mark": "4",
                "changed": "01.11.2025 10:00:00",
            }
        ]
    }
    return O7Connector(
        session,
        school_id="s1",
        year_start=dt.date(2025, 9, 1),
        year_end=dt.date(2025, 12, 31),
        today=lambda: dt.date(2025, 11, 20),
    )


def test_full_windowed_read_pages(wire: Wire, connector: O7Connector) -> None:
    pages = list(connector.pull(Entity.MARKS, None))
    assert len(pages) == 2 * 4  # 2 classes × Sep..Dec
    assert all(p.snapshot and p.complete for p in pages)
    assert pages[0].scope == Scope(dt.date(2025, 9, 1), dt.date(2025, 9, 30), "c1")
    assert pages[0].records == [{"guid": "c1:01.09.2025", "class_id": "c1"}]
    assert all(p.state == {} for p in pages[:-1])
    assert pages[-1].state == {"recent_windows": 2, "last_full": "2025-11-20"}
    assert len(wire.logins) == 1


def test_incremental_rereads_only_recent_windows(wire: Wire, connector: O7Connector) -> None:
    state = {"recent_windows": 2, "last_full": "2025-11-01"}
    pages = list(connector.pull(Entity.ATTENDANCE, state))
    scopes = [(p.scope.class_id, str(p.scope.date_from)) for p in pages]
    assert scopes == [
        ("c1", "2025-10-01"),
        ("c1", "2025-11-01"),
        ("c2", "2025-10-01"),
        ("c2", "2025-11-01"),
    ]
    assert pages[-1].state == {"recent_windows": 2, "last_full": "2025-11-01"}


def test_a_window_failing_half_way_yields_no_complete_page(
    wire: Wire, connector: O7Connector
) -> None:
    # marks of Oct read, then absences of Oct fail on every attempt
    state = {"recent_windows": 1, "last_full": "2025-10-01"}
    connector.recent = 1
    connector._today = lambda: dt.date(2025, 10, 20)
    marks = list(connector.pull(Entity.MARKS, state))
    assert [p.complete for p in marks] == [True, True]
    wire.scripted["AttendanceService/GetAbsences"] = [html_500() for _ in range(4)]
    seen: list[Page] = []
    with pytest.raises(TransientError):
        seen.extend(connector.pull(Entity.ATTENDANCE, state))
    assert seen == []  # nothing for class c1's window: the sync engine deletes nothing there


def test_an_error_mid_class_keeps_earlier_windows_only(wire: Wire, connector: O7Connector) -> None:
    calls = {"n": 0}
    ok = _dated("lessons")

    def flaky(body: dict[str, Any]) -> Any:
        calls["n"] += 1
        if calls["n"] >= 3:
            raise httpx.ConnectError("gone")
        return ok(body)

    wire.handlers["ScheduleService/GetLessons"] = flaky
    seen: list[Page] = []
    with pytest.raises(TransientError):
        seen.extend(connector.pull(Entity.LESSONS, None))
    assert [str(p.scope.date_from) for p in seen] == ["2025-09-01", "2025-10-01"]
    assert all(p.state == {} for p in seen)  # the full read is not marked done


def test_pupils_are_one_school_snapshot(connector: O7Connector) -> None:
    pages = list(connector.pull(Entity.PUPILS, None))
    assert [p.complete for p in pages] == [False, True]
    assert all(p.snapshot and p.scope == WHOLE for p in pages)
    assert pages[1].records[0]["class_id"] == "c2"


def test_names_are_derived_once_and_lessons_reused(wire: Wire, connector: O7Connector) -> None:
    wire.handlers["ScheduleService/GetLessons"] = lambda b: {
        "lessons": [
            {
                "lesson_guid": "l1",
                "discipline": "Информатика",
                "group_name": "Группа 1",
                "teacher_fio": "Орлова Анна",
                "replacement_teacher_fio": "Ёжиков Пётр",
            }
        ]
    }
    teachers = next(iter(connector.pull(Entity.TEACHERS, None)))
    subjects = next(iter(connector.pull(Entity.SUBJECTS, None)))
    groups = next(iter(connector.pull(Entity.SUBGROUPS, None)))
    assert not teachers.snapshot
    assert {r["fio"] for r in teachers.records} == {
        "Ким Ли",
        "Ли Ким",
        "Орлова Анна",
        "Ёжиков Пётр",
    }
    assert {r["discipline"] for r in subjects.records} == {"Информатика", "Физика"}
    assert groups.records[0] == {
        "class_id": "c1",
        "discipline": "Информатика",
        "group_name": "Группа 1",
        "teacher_fio": "Орлова Анна",
        "pupil_guids": ["p-c1"],
    }
    lesson_calls = wire.methods().count("ScheduleService/GetLessons")
    assert lesson_calls == 2 * 4
    list(connector.pull(Entity.LESSONS, None))
    assert wire.methods().count("ScheduleService/GetLessons") == lesson_calls  # from the scan


def test_push_marks_in_batches_keyed_by_ext_id(wire: Wire, connector: O7Connector) -> None:
    sent: list[list[dict[str, Any]]] = []

    def save(body: dict[str, Any]) -> dict[str, Any]:
        sent.append(body["marks"])
        saved = [
            {"ext_id": m["ext_id"], "mark_guid": "g-" + m["ext_id"]}
            for m in body["marks"]
            if m["mark"] != "7"
        ]
        errors = [
            {"ext_id": m["ext_id"], "message": "Недопустимая отметка"}
            for m in body["marks"]
            if m["mark"] == "7"
        ]
        return {"saved": saved, "errors": errors}

    wire.handlers["MarkService/SaveMarks"] = save
    items = [
        PushItem(
            f"k{i}",
            Entity.MARKS,
            "upsert",
            {
                "pupil_guid": "p",
                "lesson_guid": "l",
                "mark": "7" if i == 5 else "5",
                "mark_type": "Ответ на уроке",
            },
        )
        for i in range(450)
    ]
    items.append(PushItem("kd", Entity.MARKS, "delete", {}, remote_id="g"))
    results = connector.push(Entity.MARKS, items)
    assert [len(b) for b in sent] == [200, 200, 50]
    assert sent[0][0]["ext_id"] == "k0"
    assert [r.key for r in results] == [i.key for i in items]
    assert results[0].status == "created" and results[0].remote_id == "g-k0"
    assert results[5].status == "rejected" and results[5].error == "Недопустимая отметка"
    assert results[-1].status == "rejected" and "deletions" in (results[-1].error or "")


def test_push_of_roster_is_refused(connector: O7Connector) -> None:
    with pytest.raises(ConfigError):
        connector.push(Entity.LESSONS, [])


def _config(**entities: str) -> SystemConfig:
    return SystemConfig(
        base_url=BASE,
        remote_school="s1",
        credentials={
            "login": SecretRef(env="O7_TEST_LOGIN"),
            "password": SecretRef(env="O7_TEST_PASSWORD"),
        },
        entities={Entity(k): {"direction": v} for k, v in entities.items()},
        options={"year_start": "2025-09-01", "year_end": "2026-05-31"},
    )


def test_roster_pushes_are_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from sync.jobs import SystemSetup, check_directions

    monkeypatch.setenv("O7_TEST_LOGIN", "u")
    monkeypatch.setenv("O7_TEST_PASSWORD", "p")

    def setup(config: SystemConfig) -> SystemSetup:
        return SystemSetup("s1", "o7", config.connector_settings("o7"), policies=config.entities)

    with pytest.raises(ConfigError, match="takes no writes of pupils"):
        check_directions(setup(_config(pupils="both", marks="both")), CAPABILITIES)
    good = _config(marks="both", attendance="push", lessons="pull")
    check_directions(setup(good), CAPABILITIES)
    conn = O7Connector.from_settings(good.connector_settings("o7"))
    try:
        assert len(conn.windows) == 9
        assert conn.session._client.timeout.read is not None
        assert conn.session._client.timeout.read > 20  # slow answers take up to 20 s
    finally:
        conn.close()


def test_the_name_scan_keeps_a_bounded_share_of_the_years_lessons(
    wire: Wire, connector: O7Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan reads the year's lessons of every class; it keeps at most ``LESSONS_KEPT`` of
    them for the lessons read (a pull's memory must not grow with the school's year), which
    asks О7 again for the rest and reads the same lessons either way."""
    fresh = [p.records for p in connector.pull(Entity.LESSONS, None)]
    monkeypatch.setattr(_connector, "LESSONS_KEPT", 3)
    connector.pull(Entity.TEACHERS, None).__next__()  # the scan
    calls = wire.methods().count("ScheduleService/GetLessons")
    assert sum(len(v) for v in connector._lesson_cache.values()) <= 3
    assert [p.records for p in connector.pull(Entity.LESSONS, None)] == fresh
    assert wire.methods().count("ScheduleService/GetLessons") == calls + len(fresh) - 3
