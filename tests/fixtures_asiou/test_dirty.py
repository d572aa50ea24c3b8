"""The АСИОУ simulator serves a dirty school as its manifest says, the wire dirt it is asked for
(a stale copy in every section, a DOCTYPE, a mark changing while the export streams) and its
latency, over real HTTP on loopback."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from lxml import etree

from core.entities import Entity
from fixtures.asiou import Faults, Simulator
from fixtures.asiou.wire import ELEMENT
from fixtures.generator import Dirt, generate_school
from fixtures.pace import Pace
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread

EXPORT = "/asiou/exchange/export"
AUTH = ("gateway", "secret")
FIELD_ATTR = {
    "snils": "СНИЛС",
    "birth_date": "ДатаРождения",
    "left_date": "ДатаВыбытия",
    "last_name": "Фамилия",
    "first_name": "Имя",
    "middle_name": "Отчество",
    "value": "Значение",
    "topic": "Тема",
    "homework": "ДЗ",
}
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


@pytest.fixture(scope="module")
def dirty() -> SchoolData:
    return generate_school(5, "tiny", dirt=Dirt.realistic())


@pytest.fixture(scope="module")
def clean() -> SchoolData:
    return generate_school(5, "tiny")


@contextlib.contextmanager
def served(sim: Simulator) -> Iterator[httpx.Client]:
    with serve_in_thread(sim.app) as url, httpx.Client(base_url=url, auth=AUTH, timeout=30) as c:
        yield c


def export(http: httpx.Client, since: str | None = None) -> etree._Element:
    params = {"school": "760215", **({"since": since} if since else {})}
    r = http.get(EXPORT, params=params)
    assert r.status_code == 200
    return etree.fromstring(r.content, SAFE)


def section(root: etree._Element, entity: Entity) -> list[etree._Element]:
    container, name, _ = ELEMENT[entity]
    found = root.find(container)
    return [] if found is None else list(found.iter(name))


def by_id(root: etree._Element, entity: Entity) -> dict[str, dict[str, Any]]:
    return {e.get("Ид"): dict(e.attrib) for e in section(root, entity)}


def _attr(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def test_every_asiou_entry_is_served_as_the_manifest_says(dirty: SchoolData) -> None:
    with served(Simulator(dirty)) as http:
        root = export(http)
    checked = set()
    for entity in (Entity.PUPILS, Entity.TEACHERS, Entity.LESSONS, Entity.MARKS):
        records = by_id(root, entity)
        ext = {r.id: r.ext_ids["asiou"] for r in dirty.records(entity)}
        for e in dirty.manifest.select(entity=entity):
            if e.system == "asiou" and e.field is not None:
                assert records[ext[e.record_id]][FIELD_ATTR[e.field]] == _attr(e.value), e
                checked.add(e.case)
    assert checked >= {"bad_snils", "bad_left_date", "invalid_marks", "long_topic"}
    assert "na_marks" not in checked  # н/а is ES2's, not АСИОУ's


def test_records_without_dirt_are_served_as_in_the_clean_school(
    dirty: SchoolData, clean: SchoolData
) -> None:
    with served(Simulator(dirty)) as http:
        dirty_root = export(http)
    with served(Simulator(clean)) as http:
        clean_root = export(http)
    for entity in (Entity.PUPILS, Entity.MARKS, Entity.LESSONS):
        listed = dirty.manifest.ids(entity=entity)
        untouched = [r.ext_ids["asiou"] for r in clean.records(entity) if r.id not in listed]
        got, want = by_id(dirty_root, entity), by_id(clean_root, entity)
        assert untouched and all(got[k] == want[k] for k in untouched)


def test_withheld_pupils_join_the_roster_when_released(dirty: SchoolData) -> None:
    now = [dt.datetime(2025, 10, 27, 12, 0, tzinfo=dt.UTC)]
    sim = Simulator(dirty, clock=lambda: now[0])
    withheld = {p.ext_ids["asiou"] for p in dirty.pupils if p.id in dirty.manifest.withheld()}
    assert withheld
    with served(sim) as http:
        root = export(http)
        members = {m.get("Учащийся") for m in root.iter("Член")}
        assert not withheld & set(by_id(root, Entity.PUPILS)) and not withheld & members
        marked = {m.get("Учащийся") for m in section(root, Entity.MARKS)}
        assert withheld <= marked  # their marks are served all along
        formed = root.get("Сформирован")
        now[0] += dt.timedelta(minutes=5)
        assert sim.release_withheld() == len(withheld)
        later = export(http, since=formed)
        assert set(by_id(later, Entity.PUPILS)) == withheld
        assert withheld <= {m.get("Учащийся") for m in later.iter("Член")}


def test_a_stale_copy_comes_first_in_every_section(clean: SchoolData) -> None:
    sim = Simulator(clean)
    sim.faults.force("duplicate_all")
    with served(sim) as http:
        root = export(http)
        again = export(http)  # forced once: the next package is clean
    total = 0
    for entity in ELEMENT:
        records = section(root, entity)
        total += len(records)
        first, second = records[0], records[1]
        assert first.get("Ид") == second.get("Ид")
        if entity is Entity.MARKS:
            assert first.get("Значение") != second.get("Значение")
        if entity is Entity.ATTENDANCE:
            assert first.get("Причина") != second.get("Причина")
        assert len(records) == len(section(again, entity)) + 1
    assert root.find("Итог").get("Записей") == str(total)  # type: ignore[union-attr]


def test_a_doctype_naming_an_external_dtd_is_declared(clean: SchoolData) -> None:
    sim = Simulator(clean)
    sim.faults.force("doctype")
    with served(sim) as http:
        body = http.get(EXPORT, params={"school": "760215"}).content
    head = body[:200].decode("cp1251")
    assert head.startswith('<?xml version="1.0" encoding="windows-1251"?>\n<!DOCTYPE Пакет SYSTEM')
    root = etree.fromstring(body, SAFE)  # readable without fetching anything
    assert root.tag == "Пакет" and section(root, Entity.MARKS)


def test_a_complete_package_whose_count_does_not_match(clean: SchoolData) -> None:
    sim = Simulator(clean)
    sim.faults.force("bad_count")
    with served(sim) as http:
        body = http.get(EXPORT, params={"school": "760215"}).content
    root = etree.fromstring(body, SAFE)  # well formed, ends with </Пакет>
    held = sum(len(section(root, e)) for e in ELEMENT)
    assert body.rstrip().endswith("</Пакет>".encode("cp1251"))
    assert root.find("Итог").get("Записей") == str(held + 1)  # type: ignore[union-attr]


def test_a_mark_changes_while_the_export_streams(clean: SchoolData) -> None:
    now = [dt.datetime(2025, 10, 27, 12, 0, tzinfo=dt.UTC)]

    def clock() -> dt.datetime:
        now[0] += dt.timedelta(seconds=1)  # time passes while the package streams
        return now[0]

    sim = Simulator(clean, clock=clock)
    sim.faults.force("moving_source")
    with served(sim) as http:
        root = export(http)
        ((entity, ext),) = sim.moved
        served_value = by_id(root, Entity.MARKS)[ext]["Значение"]
        now_value = sim.state.get(Entity.MARKS, ext)["Значение"]  # type: ignore[index]
        assert entity is Entity.MARKS and served_value != now_value
        assert int(root.get("Ревизия")) < sim.state.revision
        later = export(http, since=root.get("Сформирован"))
    assert by_id(later, Entity.MARKS)[ext]["Значение"] == now_value


def test_extra_kinds_are_off_by_default_and_draw_nothing() -> None:
    plain, extra = Faults.uniform(0.5, seed=3), Faults.uniform(0.5, seed=3)
    hits = [plain.hit("cut") for _ in range(50)]
    for _ in range(50):
        assert extra.hit("doctype") is False and extra.hit("moving_source") is False
    assert [extra.hit("cut") for _ in range(50)] == hits
    every = Faults.every(0.5, seed=3)
    assert every.rates["moving_source"] == every.rates["cut"] == 0.5


def test_every_answer_waits_the_latency(clean: SchoolData) -> None:
    with served(Simulator(clean, pace=Pace(latency_ms=150))) as http:
        for _ in range(2):
            started = time.perf_counter()
            assert http.get("/asiou/exchange/receipt/R-1").status_code == 404
            assert time.perf_counter() - started >= 0.15


def test_no_rate_limit_in_the_contract(clean: SchoolData) -> None:
    with pytest.raises(ValueError, match="no rate limit"):
        Simulator(clean, pace=Pace(rate_limit=10))
