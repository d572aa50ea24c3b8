from __future__ import annotations

import datetime as dt
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from fixtures.generator import generate_school
from fixtures.o7 import O7Sim, SimConfig, build_app, build_data, create_app
from fixtures.school import SchoolData

with warnings.catch_warnings():  # starlette nudges towards httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with:DeprecationWarning")

T0 = dt.datetime(2025, 10, 20, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(scope="module")
def school() -> SchoolData:
    return generate_school(3, "tiny")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(school: SchoolData, clock: Clock) -> O7Sim:
    return O7Sim(build_data(school), SimConfig(clock=clock, session_ttl=600))


@pytest.fixture
def http(sim: O7Sim) -> Iterator[TestClient]:
    with TestClient(create_app(sim), follow_redirects=False) as c:
        yield c


def _login(http: TestClient, password: str = "o7pass") -> dict[str, Any]:
    r = http.post("/auth/login", data={"login_login": "o7user", "login_password": password})
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def _call(http: TestClient, method: str, body: dict[str, Any]) -> Any:
    return http.post(f"/api/{method}", json=body)


def test_login_sets_a_session(http: TestClient, sim: O7Sim) -> None:
    assert _call(http, "SchoolService/GetClasses", {}).status_code == 401
    assert _login(http) == {"success": True, "redirect": "/"}
    assert "sessionid" in http.cookies
    r = _call(http, "SchoolService/GetClasses", {"school_id": sim.data.school_guid})
    names = [c["class_name"] for c in r.json()["classes"]]
    assert names == ["1 А", "5 А", "5 Б", "10 А"]


def test_lock_out_after_five_failures(http: TestClient, sim: O7Sim, clock: Clock) -> None:
    for _ in range(5):
        assert _login(http, "bad")["message"] == "Неверный логин или пароль"
    assert _login(http)["message"] == "Account locked: too many login attempts"
    clock.now += dt.timedelta(minutes=16)
    assert _login(http)["success"] is True
    assert sim.login_attempts == 7


def test_failures_older_than_15_minutes_do_not_count(http: TestClient, clock: Clock) -> None:
    for _ in range(4):
        _login(http, "bad")
    clock.now += dt.timedelta(minutes=16)
    _login(http, "bad")
    assert _login(http)["success"] is True


@pytest.mark.parametrize("variant", ["401", "302"])
def test_session_expiry_variants(http: TestClient, sim: O7Sim, clock: Clock, variant: str) -> None:
    sim.config.expiry = variant  # type: ignore[assignment]
    _login(http)
    body = {"school_id": sim.data.school_guid}
    assert _call(http, "SchoolService/GetClasses", body).status_code == 200
    clock.now += dt.timedelta(seconds=601)
    r = _call(http, "SchoolService/GetClasses", body)
    assert r.status_code == int(variant)
    if variant == "302":
        assert r.headers["Location"] == "/auth/login"
    _login(http)
    sim.expire_sessions()
    assert _call(http, "SchoolService/GetClasses", body).status_code == int(variant)


def test_windows_are_limited_to_31_days(http: TestClient, sim: O7Sim, school: SchoolData) -> None:
    _login(http)
    cid = sim.data.classes[1]["class_id"]
    long = _call(
        http,
        "MarkService/GetMarks",
        {"class_id": cid, "date_from": "01.09.2025", "date_to": "02.10.2025"},
    )
    assert long.status_code == 200
    assert long.json() == {"success": False, "message": "Период не более 31 дня"}
    ok = _call(
        http,
        "ScheduleService/GetLessons",
        {"class_id": cid, "date_from": "01.10.2025", "date_to": "31.10.2025"},
    ).json()
    dates = {dt.datetime.strptime(x["date"], "%d.%m.%Y").date() for x in ok["lessons"]}
    assert dates and min(dates) >= dt.date(2025, 10, 1) and max(dates) <= dt.date(2025, 10, 31)
    expected = sum(
        1
        for les in school.lessons
        if les.ext_ids["o7"] in sim.data.lesson_class
        and sim.data.lesson_class[les.ext_ids["o7"]] == cid
        and dt.date(2025, 10, 1) <= les.date <= dt.date(2025, 10, 31)
    )
    assert len(ok["lessons"]) == expected


def _lesson_and_pupil(sim: O7Sim) -> tuple[str, str]:
    cid = sim.data.classes[1]["class_id"]
    return sim.data.lessons[cid][0]["lesson_guid"], sim.data.pupils[cid][0]["pupil_guid"]


def test_save_marks_deduplicates_on_ext_id(http: TestClient, sim: O7Sim) -> None:
    _login(http)
    lesson, pupil = _lesson_and_pupil(sim)
    held = sim.held_marks()
    item = {
        "ext_id": "k1",
        "pupil_guid": pupil,
        "lesson_guid": lesson,
        "mark": "4",
        "mark_type": "Ответ на уроке",
    }
    first = _call(http, "MarkService/SaveMarks", {"marks": [item]}).json()
    again = _call(http, "MarkService/SaveMarks", {"marks": [{**item, "mark": "5"}]}).json()
    assert first["saved"][0]["mark_guid"] == again["saved"][0]["mark_guid"]
    assert sim.held_marks() == held + 1
    found = sim.data.find_mark(first["saved"][0]["mark_guid"])
    assert found is not None and found[1]["mark"] == "5"


def test_save_rejections_leave_the_rest(http: TestClient, sim: O7Sim) -> None:
    _login(http)
    lesson, pupil = _lesson_and_pupil(sim)
    base = {"pupil_guid": pupil, "lesson_guid": lesson, "mark": "5", "mark_type": "x"}
    answer = _call(
        http,
        "MarkService/SaveMarks",
        {
            "marks": [
                {**base, "ext_id": "ok"},
                {**base, "ext_id": "p", "pupil_guid": "nobody"},
                {**base, "ext_id": "l", "lesson_guid": "none"},
                {**base, "ext_id": "v", "mark": "7"},
                {**base, "ext_id": "na", "mark": "н/а"},
            ]
        },
    ).json()
    assert [s["ext_id"] for s in answer["saved"]] == ["ok"]
    assert {e["ext_id"]: e["message"] for e in answer["errors"]} == {
        "p": "Ученик не найден",
        "l": "Урок не найден",
        "v": "Недопустимая отметка",
        "na": "Недопустимая отметка",
    }
    absences = _call(
        http,
        "AttendanceService/SaveAbsences",
        {
            "absences": [
                {"ext_id": "a1", "pupil_guid": pupil, "lesson_guid": lesson, "reason": "Б"},
                {"ext_id": "a2", "pupil_guid": pupil, "lesson_guid": lesson, "reason": "Z"},
            ]
        },
    ).json()
    assert len(absences["saved"]) == 1 and absences["errors"][0]["ext_id"] == "a2"


def test_forced_and_nightly_faults(http: TestClient, sim: O7Sim, clock: Clock) -> None:
    _login(http)
    body = {"school_id": sim.data.school_guid}
    sim.fail_next("SchoolService/GetClasses", 1, "html500")
    r = _call(http, "SchoolService/GetClasses", body)
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert _call(http, "SchoolService/GetClasses", body).status_code == 200
    sim.config.nightly = True
    sim.config.session_ttl = 10**6
    clock.now = dt.datetime(2025, 10, 20, 22, 10, tzinfo=dt.UTC)  # 01:10 MSK
    r = http.post("/auth/login", data={"login_login": "o7user", "login_password": "o7pass"})
    assert r.status_code == 503
    assert _call(http, "SchoolService/GetClasses", body).status_code == 503
    clock.now = dt.datetime(2025, 10, 20, 22, 31, tzinfo=dt.UTC)  # 01:31 MSK
    assert _call(http, "SchoolService/GetClasses", body).status_code == 200


def test_random_faults_and_slow_answers(school: SchoolData) -> None:
    sim = O7Sim(build_data(school), SimConfig(fault_rate=1.0, slow_delay=0.2, seed=5))
    with TestClient(create_app(sim), follow_redirects=False) as http:
        _login(http)
        statuses = []
        for _ in range(12):
            t = time.monotonic()
            r = _call(http, "SchoolService/GetClasses", {"school_id": sim.data.school_guid})
            statuses.append((r.status_code, time.monotonic() - t >= 0.2))
    assert {s for s, _ in statuses} == {200, 500, 503}
    assert all(slow for s, slow in statuses if s == 200)


def test_admin_hooks(sim: O7Sim) -> None:
    lesson = next(lid for lid, marks in sim.data.marks.items() if marks)
    mark_guid = next(iter(sim.data.marks[lesson]))
    held = sim.held_marks()
    sim.set_mark(mark_guid, "2")
    assert sim.data.marks[lesson][mark_guid]["mark"] == "2"
    sim.delete_mark(mark_guid)
    assert sim.held_marks() == held - 1
    with pytest.raises(KeyError):
        sim.delete_mark(mark_guid)


def test_build_app_for_the_cli() -> None:
    app = build_app(seed=1, size="tiny", fault_rate=0.0)
    sim: O7Sim = app.state.sim
    assert sim.data.classes and sim.config.fault_rate == 0.0
