"""ES2 end to end: the simulator over real HTTP on 127.0.0.1, the connector, mapping and identity."""

from __future__ import annotations

import copy
import datetime as dt
import time

import pytest

from core.entities import Entity
from fixtures.es2 import Faults, SimClock, Simulator
from fixtures.generator import generate_school
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread
from mapping.model import Mark
from tests.e2e.es2_helpers import ES2_ENTITIES, SIM_NOW, Store, connector, expected


def _sim(school: SchoolData, faults: Faults | None = None) -> Simulator:
    return Simulator(school, clock=SimClock(SIM_NOW), faults=faults)


@pytest.fixture(scope="module")
def tiny() -> SchoolData:
    return generate_school(7, "tiny")


def _assert_equal(store: Store, school: SchoolData) -> None:
    for entity in ES2_ENTITIES:
        got, want = store.contents(entity), expected(school, entity)
        assert got.keys() == want.keys(), entity
        diff = [gid for gid in want if got[gid] != want[gid]]
        assert diff == [], (entity, diff[:3])


@pytest.mark.slow
def test_full_pull_of_small_school_equals_generator() -> None:
    school = generate_school(3, "small")
    t0 = time.perf_counter()
    with serve_in_thread(_sim(school).app) as url:
        conn = connector(url, school, page_size=1000)
        store = Store(school)
        store.pull(conn)
        conn.close()
    _assert_equal(store, school)
    assert store.errors == []
    assert time.perf_counter() - t0 < 60


def _mutate(school: SchoolData) -> tuple[SchoolData, dict[Entity, set[str]]]:
    """A changed copy: edited, new and deleted records in several entities, and what changed."""
    new = copy.copy(school)
    new._index = {}
    for entity in ES2_ENTITIES:
        setattr(new, entity.value, list(school.records(entity)))
    later = SIM_NOW + dt.timedelta(hours=1)
    changes: dict[Entity, set[str]] = {e: set() for e in ES2_ENTITIES}

    m0 = new.marks[0]
    new.marks[0] = m0.model_copy(
        update={"value": "2" if str(m0.value) != "2" else "3", "modified_at": later}
    )
    changes[Entity.MARKS].add(m0.id)
    gone = new.marks.pop(5)
    changes[Entity.MARKS].add(gone.id)
    template = new.marks[10]
    added = Mark(
        id="new-mark-1",
        school_id=template.school_id,
        ext_ids={"es2": "7999999"},
        pupil_id=template.pupil_id,
        lesson_id=template.lesson_id,
        value="5",
        work_type="Тест",
        weight=1,
        modified_at=later,
    )
    new.marks.append(added)
    changes[Entity.MARKS].add(added.id)

    a = new.attendance.pop(0)
    changes[Entity.ATTENDANCE].add(a.id)
    f0 = new.final_marks[0]
    new.final_marks[0] = f0.model_copy(update={"value": "н/а" if str(f0.value) != "н/а" else "5"})
    changes[Entity.FINAL_MARKS].add(f0.id)

    p = next(p for p in new.pupils if p.status == "active")
    idx = new.pupils.index(p)
    new.pupils[idx] = p.model_copy(update={"status": "left", "left_date": SIM_NOW.date()})
    changes[Entity.PUPILS].add(p.id)

    lesson_idx = max(range(len(new.lessons)), key=lambda i: new.lessons[i].date)
    le = new.lessons[lesson_idx]
    new.lessons[lesson_idx] = le.model_copy(update={"topic": "Новая тема урока"})
    changes[Entity.LESSONS].add(le.id)

    t = new.teachers[0]
    new.teachers[0] = t.model_copy(update={"middle_name": "Ивановна"})
    changes[Entity.TEACHERS].add(t.id)
    return new, changes


def test_incremental_pull_brings_exactly_the_changes(tiny: SchoolData) -> None:
    sim = _sim(tiny)
    with serve_in_thread(sim.app) as url:
        conn = connector(url, tiny, lesson_recent_days=400)
        store = Store(tiny)
        store.pull(conn)
        _assert_equal(store, tiny)

        changed, expected_ids = _mutate(tiny)
        sim.clock.advance(hours=1)
        counts = sim.sync_to(changed)
        assert counts["deleted"] == 2
        store.serve(changed)
        got = store.pull(conn)
        conn.close()

    for entity in ES2_ENTITIES:
        assert set(got[entity]) == expected_ids[entity], entity
    assert got[Entity.MARKS]["new-mark-1"] is not None
    # the change feed sends the changes (and at most a few re-reads from the safety overlap)
    for entity in (Entity.MARKS, Entity.ATTENDANCE, Entity.FINAL_MARKS, Entity.PUPILS):
        assert store.delivered[entity] <= len(expected_ids[entity]) + 3, entity
    deleted = {gid for e in ES2_ENTITIES for gid, c in got[e].items() if c is None}
    assert deleted == {tiny.marks[5].id, tiny.attendance[0].id}
    _assert_equal(store, changed)


def test_cursor_older_than_30_days_needs_full_pull(tiny: SchoolData) -> None:
    from core.errors import CursorExpired

    sim = _sim(tiny)
    with serve_in_thread(sim.app) as url:
        conn = connector(url, tiny)
        store = Store(tiny)
        store.pull(conn, [Entity.MARKS])
        sim.clock.advance(days=31)
        with pytest.raises(CursorExpired):
            store.pull(conn, [Entity.MARKS])
        store.states[Entity.MARKS] = None  # what the sync engine does: a full pull
        store.pull(conn, [Entity.MARKS])
        conn.close()
    assert store.contents(Entity.MARKS) == expected(tiny, Entity.MARKS)


def test_full_pull_under_every_fault_still_equals_generator(tiny: SchoolData) -> None:
    faults = Faults.uniform(0.08, seed=11, retry_after=0)
    sim = _sim(tiny, faults)
    with serve_in_thread(sim.app) as url:
        conn = connector(url, tiny, page_size=200)
        store = Store(tiny)
        store.pull(conn, [Entity.PUPILS, Entity.LESSONS, Entity.MARKS, Entity.ATTENDANCE])
        conn.close()
    for entity in (Entity.PUPILS, Entity.LESSONS, Entity.MARKS, Entity.ATTENDANCE):
        assert store.contents(entity) == expected(tiny, entity), entity
    assert set(faults.fired) == set(Faults.KINDS), faults.fired


def test_incremental_pull_after_generator_mutation(tiny: SchoolData) -> None:
    from fixtures.generator import mutate

    sim = _sim(tiny)
    with serve_in_thread(sim.app) as url:
        conn = connector(url, tiny, lesson_recent_days=400)
        store = Store(tiny)
        store.pull(conn)
        changed, changeset = mutate(tiny, 3, changes=40)
        sim.clock.advance(hours=1)
        sim.sync_to(changed)
        store.serve(changed)
        got = store.pull(conn)
        conn.close()
    for entity in ES2_ENTITIES:
        assert set(got[entity]) == changeset.ids(entity), entity
        deleted = {gid for gid, c in got[entity].items() if c is None}
        assert deleted == changeset.ids(entity, "delete"), entity
    _assert_equal(store, changed)
