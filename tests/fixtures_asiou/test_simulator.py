"""The АСИОУ simulator over real HTTP: packages, faults, imports and receipt rules."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import httpx
import pytest
from lxml import etree

from core.entities import Entity
from fixtures.asiou import Faults, Simulator
from fixtures.generator import generate_school
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread
from mapping.model import Lesson

EXPORT = "/asiou/exchange/export"
AUTH = ("gateway", "secret")
RECORDS = (
    "Период",
    "Предмет",
    "Сотрудник",
    "Класс",
    "Подгруппа",
    "Учащийся",
    "Урок",
    "Отметка",
    "ИтоговаяОтметка",
    "Пропуск",
)


@pytest.fixture(scope="module")
def school() -> SchoolData:
    return generate_school(5, "tiny")


@pytest.fixture
def sim(school: SchoolData) -> Simulator:
    return Simulator(school, delay=0.2, closed_periods={school.periods[0].ext_ids["asiou"]})


@pytest.fixture
def http(sim: Simulator) -> Iterator[httpx.Client]:
    with serve_in_thread(sim.app) as url, httpx.Client(base_url=url, auth=AUTH, timeout=10) as c:
        yield c


def records_of(body: bytes) -> tuple[etree._Element, list[etree._Element]]:
    root = etree.fromstring(body)
    return root, [e for e in root.iter() if e.tag in RECORDS]


def test_full_export_counts_every_record_in_windows_1251(
    http: httpx.Client, school: SchoolData
) -> None:
    r = http.get(EXPORT, params={"school": "760215"})
    assert r.status_code == 200 and "windows-1251" in r.headers["content-type"]
    assert r.content.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    root, recs = records_of(r.content)
    assert root.get("Полный") == "1"
    assert len(recs) == sum(
        len(school.records(e))
        for e in Entity
        if e not in (Entity.SCHOOLS, Entity.YEARS, Entity.ENROLMENTS)
    )
    total = root.find("Итог")
    assert total is not None and total.get("Записей") == str(len(recs))


def test_auth_and_school_are_checked(http: httpx.Client) -> None:
    assert (
        http.get(EXPORT, params={"school": "760215"}, auth=("gateway", "nope")).status_code == 401
    )
    assert http.get(EXPORT, params={"school": "1"}).status_code == 404


def test_since_export_holds_only_changes_and_deletions(
    http: httpx.Client, sim: Simulator, school: SchoolData
) -> None:
    first = etree.fromstring(http.get(EXPORT, params={"school": "760215"}).content)
    since = first.get("Сформирован")
    mark_a, mark_b = school.marks[0].ext_ids["asiou"], school.marks[1].ext_ids["asiou"]
    sim.mutate(Entity.MARKS, mark_a, Значение="3")
    sim.delete(Entity.MARKS, mark_b)
    root, recs = records_of(http.get(EXPORT, params={"school": "760215", "since": since}).content)
    assert root.get("Полный") == "0"
    assert {(e.get("Ид"), e.get("Значение"), e.get("Удалена")) for e in recs} == {
        (mark_a, "3", "0"),
        (mark_b, school.marks[1].value.__str__(), "1"),
    }
    # a full export no longer holds the deleted mark
    _, again = records_of(http.get(EXPORT, params={"school": "760215"}).content)
    assert mark_b not in {e.get("Ид") for e in again}


def test_503_with_retry_after(http: httpx.Client, sim: Simulator) -> None:
    sim.faults.force("unavailable")
    r = http.get(EXPORT, params={"school": "760215"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    assert http.get(EXPORT, params={"school": "760215"}).status_code == 200


def test_cut_short_package_has_no_end(http: httpx.Client, sim: Simulator) -> None:
    sim.faults.force("cut")
    body = http.get(EXPORT, params={"school": "760215"}).content
    assert "</Пакет>".encode("cp1251") not in body and "<Итог".encode("cp1251") not in body
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(body)


def test_duplicate_record_is_counted_and_the_stale_copy_comes_first(
    http: httpx.Client, sim: Simulator
) -> None:
    sim.faults.force("duplicate")
    root, recs = records_of(http.get(EXPORT, params={"school": "760215"}).content)
    marks = [e for e in recs if e.tag == "Отметка"]
    first, second = marks[0], marks[1]
    assert first.get("Ид") == second.get("Ид") and first.get("Значение") != second.get("Значение")
    assert root.find("Итог").get("Записей") == str(len(recs))  # type: ignore[union-attr]


def test_bom_and_cp1251_name(http: httpx.Client, sim: Simulator) -> None:
    sim.faults.force("bom", "cp1251")
    body = http.get(EXPORT, params={"school": "760215"}).content
    assert body.startswith(b'\xef\xbb\xbf<?xml version="1.0" encoding="cp1251"?>')


def import_body(records: str, n: int) -> bytes:
    return (
        f'<?xml version="1.0" encoding="windows-1251"?><Пакет Версия="2.3" Школа="760215" '
        f'Источник="gateway">{records}<Итог Записей="{n}"/></Пакет>'
    ).encode("cp1251")


def mark_xml(key: str, pupil: str, lesson: str, value: str = "5") -> str:
    return (
        f'<Отметка ВнешнийИд="{key}" Учащийся="{pupil}" Урок="{lesson}" Значение="{value}" '
        'ВидРаботы="Ответ на уроке" Вес="1"/>'
    )


def test_import_receipt_rules_and_replacement(
    http: httpx.Client, sim: Simulator, school: SchoolData
) -> None:
    closed = school.periods[0]
    by_id = {c.id: c for c in school.classes}
    open_lesson = next(
        x for x in school.lessons if not closed.covers(by_id[x.class_id].parallel, x.date)
    )
    closed_lesson = next(
        x for x in school.lessons if closed.covers(by_id[x.class_id].parallel, x.date)
    )
    pupil = school.pupils[0].ext_ids["asiou"]

    def L(lesson: Lesson) -> str:
        return lesson.ext_ids["asiou"]

    body = (
        "<Отметки>"
        + "".join(
            [
                mark_xml("k-ok", pupil, L(open_lesson), "4"),
                mark_xml("k-closed", pupil, L(closed_lesson)),
                mark_xml("k-who", "U0", L(open_lesson)),
                mark_xml("k-bad", pupil, L(open_lesson), "."),
                mark_xml("k-ok", pupil, L(open_lesson), "5"),  # same ВнешнийИд: replaces the first
            ]
        )
        + "</Отметки>"
    )
    r = http.post(
        "/asiou/exchange/import", params={"school": "760215"}, content=import_body(body, 5)
    )
    assert r.status_code == 202
    rid = etree.fromstring(r.content).get("Ид")
    pending = etree.fromstring(http.get(f"/asiou/exchange/receipt/{rid}").content)
    assert pending.get("Статус") == "принят"
    deadline = time.monotonic() + 5
    while True:
        done = etree.fromstring(http.get(f"/asiou/exchange/receipt/{rid}").content)
        if done.get("Статус") == "обработан" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert done.get("Статус") == "обработан"
    errors = {e.get("ВнешнийИд"): e.get("Код") for e in done.iter("Ошибка")}
    assert errors == {
        "k-closed": "ПЕРИОД_ЗАКРЫТ",
        "k-who": "УЧАЩИЙСЯ_НЕ_НАЙДЕН",
        "k-bad": "НЕДОПУСТИМОЕ_ЗНАЧЕНИЕ",
    }
    assert done.get("Принято") == "1" and done.get("Отклонено") == "3"
    held = list(sim.held_marks().values())
    assert len(held) == 1 and held[0]["Значение"] == "5"
    # sending the same ВнешнийИд again replaces the held mark, it does not add one
    r = http.post(
        "/asiou/exchange/import",
        params={"school": "760215"},
        content=import_body(
            "<Отметки>" + mark_xml("k-ok", pupil, L(open_lesson), "3") + "</Отметки>", 1
        ),
    )
    sim.process_now()
    held = list(sim.held_marks().values())
    assert len(held) == 1 and held[0]["Значение"] == "3"


def test_bad_import_package_is_refused(http: httpx.Client) -> None:
    r = http.post(
        "/asiou/exchange/import", params={"school": "760215"}, content=import_body("<Отметки/>", 3)
    )
    assert r.status_code == 400


def test_fault_rates_are_seeded_and_bounded() -> None:
    faults = Faults.uniform(0.5, seed=3)
    hits = [faults.hit("cut") for _ in range(200)]
    assert 60 < sum(hits) < 140
    again = Faults.uniform(0.5, seed=3)
    assert [again.hit("cut") for _ in range(200)] == hits


def test_sim_clock_is_used_for_since(school: SchoolData) -> None:
    now = [dt.datetime(2025, 10, 27, 12, 0, tzinfo=dt.UTC)]
    sim = Simulator(school, clock=lambda: now[0])
    built = now[0]
    now[0] += dt.timedelta(minutes=5)
    sim.mutate(Entity.PUPILS, school.pupils[0].ext_ids["asiou"], Отчество="")
    before = list(sim.state.records(Entity.PUPILS, built))
    after = list(sim.state.records(Entity.PUPILS, now[0]))
    assert [p["Ид"] for p in before] == [school.pupils[0].ext_ids["asiou"]] and after == []
    # a since older than the simulator's data is answered with everything
    assert len(list(sim.state.records(Entity.PUPILS, built - dt.timedelta(days=1)))) == len(
        school.pupils
    )
