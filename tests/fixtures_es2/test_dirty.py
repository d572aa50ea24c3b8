"""The ES2 simulator serves a dirty school as its manifest says, and the wire dirt it is asked
for (stale duplicates in a page, items moving during a read), over real HTTP on loopback."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.entities import Entity
from fixtures.es2 import Faults, SimClock, Simulator
from fixtures.es2.wire import ENTITY_PATH
from fixtures.generator import Dirt, generate_school
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread

NOW = dt.datetime(2025, 10, 27, 12, 0, tzinfo=dt.UTC)
S = "/api/v2/schools/42"
CREDENTIALS = {"client_id": "schoolgate", "client_secret": "secret", "school_id": 42}


@pytest.fixture(scope="module")
def dirty() -> SchoolData:
    return generate_school(2, "tiny", dirt=Dirt.realistic())


@pytest.fixture(scope="module")
def clean() -> SchoolData:
    return generate_school(2, "tiny")


@contextlib.contextmanager
def serve(sim: Simulator) -> Iterator[httpx.Client]:
    with serve_in_thread(sim.app) as url, httpx.Client(base_url=url, timeout=30) as client:
        r = client.post("/api/v2/auth/token", json=CREDENTIALS)
        client.headers["Authorization"] = f"Bearer {r.json()['data']['access_token']}"
        yield client


@pytest.fixture
def sim(dirty: SchoolData) -> Simulator:
    return Simulator(dirty, clock=SimClock(NOW))


@pytest.fixture
def http(sim: Simulator) -> Iterator[httpx.Client]:
    with serve(sim) as client:
        yield client


def read(http: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of ``path``; each page's items in order (duplicates kept)."""
    out: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        body = http.get(f"{S}/{path}", params={**params, **({"cursor": cursor} if cursor else {})})
        data = body.json()
        assert data["success"] is True, data
        out += data["data"]
        cursor = data["next_cursor"]
        if cursor is None:
            return out
    raise AssertionError("unbounded read")


def lessons(http: httpx.Client) -> list[dict[str, Any]]:
    """The tiny school's lessons (September to the end of the first quarter)."""
    return read(http, "lessons", start="2025-09-01", end="2025-11-30", limit=1000)


def served(http: httpx.Client, entity: Entity) -> dict[str, dict[str, Any]]:
    path = ENTITY_PATH[entity]
    items = lessons(http) if entity is Entity.LESSONS else read(http, path, limit=1000)
    return {str(it["id"]): it for it in items}


def _wire(value: Any, field: str) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if field == "snils" and value:
        return f"{value[0:3]}-{value[3:6]}-{value[6:9]} {value[9:11]}"
    return value


def test_every_es2_entry_is_served_as_the_manifest_says(
    http: httpx.Client, dirty: SchoolData
) -> None:
    checked = 0
    for entity in (Entity.PUPILS, Entity.TEACHERS, Entity.LESSONS, Entity.MARKS):
        items = served(http, entity)
        ext = {r.id: r.ext_ids["es2"] for r in dirty.records(entity)}
        for e in dirty.manifest.select(entity=entity):
            if e.system != "es2" or e.field is None:
                continue
            assert items[ext[e.record_id]][e.field] == _wire(e.value, e.field), e
            checked += 1
    cases = {e.case for e in dirty.manifest.select(system="es2") if e.system == "es2"}
    assert checked and cases >= {"bad_snils", "na_marks", "invalid_marks", "long_topic"}


def test_records_without_dirt_are_served_as_in_the_clean_school(
    http: httpx.Client, dirty: SchoolData, clean: SchoolData
) -> None:
    with serve(Simulator(clean, clock=SimClock(NOW))) as client:
        for entity in (Entity.PUPILS, Entity.MARKS):
            dirty_items, clean_items = served(http, entity), served(client, entity)
            listed = dirty.manifest.ids(entity=entity)
            ext = {r.id: r.ext_ids["es2"] for r in clean.records(entity)}
            untouched = [ext[i] for i in ext if i not in listed]
            assert untouched
            for key in untouched:
                assert dirty_items[key] == clean_items[key]


def test_withheld_pupils_are_out_of_the_roster_until_released(
    http: httpx.Client, sim: Simulator, dirty: SchoolData
) -> None:
    withheld = {p.ext_ids["es2"]: p for p in dirty.pupils if p.id in dirty.manifest.withheld()}
    assert withheld
    pupils = served(http, Entity.PUPILS)
    members = {str(m) for g in read(http, "subgroups") for m in g["pupil_ids"]}
    assert not set(withheld) & set(pupils) and not set(withheld) & members
    marks = served(http, Entity.MARKS)
    orphans = {str(m["pupil_id"]) for m in marks.values()} & set(withheld)
    assert orphans == set(withheld)  # their marks are served all along
    sim.clock.advance(minutes=5)
    since = sim.clock.now().isoformat()
    assert sim.release_withheld() == len(withheld)
    arrived = read(http, "pupils", changed_since=since)
    assert {str(p["id"]) for p in arrived} == set(withheld)
    members = {str(m) for g in read(http, "subgroups") for m in g["pupil_ids"]}
    in_groups = {p.ext_ids["es2"] for p in withheld.values() if _in_subgroup(dirty, p.id)}
    assert in_groups <= members


def _in_subgroup(school: SchoolData, pupil_id: str) -> bool:
    return any(pupil_id in g.member_ids for g in school.subgroups)


def test_a_stale_copy_comes_before_the_item_in_the_same_page(clean: SchoolData) -> None:
    sim = Simulator(clean, clock=SimClock(NOW), faults=Faults(duplicate=1.0, seed=3))
    with serve(sim) as http:
        pages = []
        cursor = None
        while True:
            params = {"limit": 300, **({"cursor": cursor} if cursor else {})}
            body = http.get(f"{S}/marks", params=params).json()
            pages.append(body["data"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
    truth = {it["id"]: it for it in sim.state.col("marks").items.values()}
    for page in pages:
        ids = [it["id"] for it in page]
        (twice,) = [i for i in set(ids) if ids.count(i) == 2]
        first, last = (it for it in page if it["id"] == twice)
        assert last == truth[twice] and first["value"] != last["value"]
        assert first["updated_at"] < last["updated_at"]
    assert sim.faults.fired["duplicate"] == len(pages) > 1


def test_an_item_already_read_changes_before_a_later_page(clean: SchoolData) -> None:
    sim = Simulator(clean, clock=SimClock(NOW), faults=Faults(moving_source=1.0, seed=5))
    with serve(sim) as http:
        start = sim.clock.now().isoformat()
        seen: dict[int, dict[str, Any]] = {}
        revisions = []
        cursor = None
        while True:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            body = http.get(f"{S}/marks", params=params).json()
            revisions.append(body["revision"])
            for it in body["data"]:
                seen.setdefault(it["id"], it)
            cursor = body["next_cursor"]
            if cursor is None:
                break
        ((path, moved_id),) = sim.moved
        now = sim.state.col("marks").items[moved_id]
        assert path == "marks" and seen[moved_id]["value"] != now["value"]
        assert len(set(revisions)) == 2  # the reader can tell: the revision moved once
        later = read(http, "marks", changed_since=start)
        assert [it["value"] for it in later if it["id"] == moved_id] == [now["value"]]


def test_wire_dirt_is_off_by_default_and_every_switches_it_on() -> None:
    faults = Faults.uniform(0.3)
    assert faults.duplicate == faults.moving_source == 0.0
    every = Faults.every(0.3)
    assert all(getattr(every, k) == 0.3 for k in (*Faults.KINDS, *Faults.EXTRA))
