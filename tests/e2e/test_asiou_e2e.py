"""АСИОУ end to end: the simulator over real HTTP on 127.0.0.1, the connector, mapping, identity.

The same generated school pulled from the АСИОУ simulator and from the ES2 simulator gives the
same canonical records, except for what the АСИОУ contract cannot carry: a subject's short name
(``Subject.short``; a package has only ``Наименование``) — and neither carries a period's
``closed`` flag. Enrolments (movements) are in neither export.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.entities import Entity
from core.errors import ContractViolation, TransientError
from fixtures.asiou import Faults, Simulator
from fixtures.es2 import SimClock
from fixtures.es2 import Simulator as ES2Simulator
from fixtures.generator import generate_school
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread
from tests.e2e import es2_helpers
from tests.e2e.asiou_helpers import ENTITIES, NOT_CARRIED, Consumer, connector, expected


@pytest.fixture(scope="module")
def tiny() -> SchoolData:
    return generate_school(11, "tiny")


def _assert_equal(consumer: Consumer, school: SchoolData) -> None:
    for entity in ENTITIES:
        got, want = consumer.contents(entity), expected(school, entity)
        assert got.keys() == want.keys(), entity
        diff = [gid for gid in want if got[gid] != want[gid]]
        assert diff == [], (entity, diff[:3])


def test_asiou_and_es2_simulators_give_the_same_canonical_records(tiny: SchoolData) -> None:
    consumer = Consumer(tiny)
    with serve_in_thread(Simulator(tiny).app) as url:
        conn = connector(url)
        consumer.pull(conn)
        conn.close()
    es2_store = es2_helpers.Store(tiny)
    with serve_in_thread(ES2Simulator(tiny, clock=SimClock(es2_helpers.SIM_NOW)).app) as url:
        es2 = es2_helpers.connector(url, tiny)
        es2_store.pull(es2)
        es2.close()
    assert consumer.errors == [] and es2_store.errors == []
    compared = 0
    for entity in ENTITIES:
        from_asiou = consumer.contents(entity)
        from_es2 = es2_store.contents(entity)
        for content in from_es2.values():
            for name in NOT_CARRIED.get(entity, ()):
                content.pop(name, None)
        assert from_asiou.keys() == from_es2.keys(), entity
        assert from_asiou == from_es2, entity
        compared += len(from_asiou)
    assert compared > 5000
    _assert_equal(consumer, tiny)


def test_delta_after_changes_brings_changes_and_deletions(tiny: SchoolData) -> None:
    sim = Simulator(tiny)
    consumer = Consumer(tiny)
    with serve_in_thread(sim.app) as url:
        conn = connector(url)
        consumer.pull(conn)
        first_state = consumer.state
        m0, m1 = tiny.marks[0], tiny.marks[1]
        sim.mutate(Entity.MARKS, m0.ext_ids["asiou"], Значение="2")
        sim.delete(Entity.MARKS, m1.ext_ids["asiou"])
        pages = list(conn.pull(None, first_state))
        consumer.apply(pages)
        conn.close()
    assert not any(p.snapshot for p in pages)
    assert sum(len(p.records) for p in pages) == 2
    assert str(consumer.records[Entity.MARKS][m0.id].content()["value"]) == "2"
    assert m1.id not in consumer.records[Entity.MARKS]
    assert consumer.state is not None and consumer.state != first_state


def test_full_package_deletes_what_it_lacks(tiny: SchoolData) -> None:
    sim = Simulator(tiny)
    consumer = Consumer(tiny)
    with serve_in_thread(sim.app) as url:
        conn = connector(url)
        consumer.pull(conn)
        gone = tiny.lessons[-1]
        sim.delete(Entity.LESSONS, gone.ext_ids["asiou"])  # a roster record: no Удалена
        consumer.apply(conn.pull(None, None))
        conn.close()
    assert gone.id not in consumer.records[Entity.LESSONS]
    assert len(consumer.records[Entity.LESSONS]) == len(tiny.lessons) - 1


@pytest.mark.parametrize("fault", ["duplicate", "bom", "cp1251", "unavailable"])
def test_each_readable_fault_still_equals_the_generator(tiny: SchoolData, fault: str) -> None:
    sim = Simulator(tiny)
    sim.faults.force(fault, *(["unavailable"] if fault == "unavailable" else []))
    consumer = Consumer(tiny)
    with serve_in_thread(sim.app) as url:
        conn = connector(url)
        consumer.pull(conn)
        conn.close()
    assert sim.faults.seen.get(fault, 0) >= 1
    _assert_equal(consumer, tiny)


def test_cut_short_package_applies_nothing(tiny: SchoolData) -> None:
    sim = Simulator(tiny)
    consumer = Consumer(tiny)
    with serve_in_thread(sim.app) as url:
        conn = connector(url)
        consumer.pull(conn)
        before, state = consumer.records, consumer.state
        sim.mutate(Entity.MARKS, tiny.marks[0].ext_ids["asiou"], Значение="2")
        sim.faults.force("cut")
        with pytest.raises(ContractViolation):
            consumer.pull(conn)
        conn.close()
    assert consumer.records is before and consumer.state == state


def test_503_beyond_the_retries_is_transient(tiny: SchoolData) -> None:
    sim = Simulator(tiny, faults=Faults({"unavailable": 1.0}))
    with serve_in_thread(sim.app) as url:
        conn = connector(url, retries=2)
        with pytest.raises(TransientError):
            list(conn.pull(None, None))
        conn.close()
    assert sim.faults.seen["unavailable"] == 3


def test_every_fault_at_a_rate_ends_equal_or_applies_nothing(tiny: SchoolData) -> None:
    sim = Simulator(tiny, faults=Faults.uniform(0.3, seed=4))
    consumer = Consumer(tiny)
    with serve_in_thread(sim.app) as url:
        conn = connector(url, retries=6)
        for _ in range(12):  # bounded: a cut package fails the pull, the next pull retries
            try:
                consumer.pull(conn)
                break
            except (ContractViolation, TransientError):
                assert consumer.state is None and consumer.records == {}
        conn.close()
    _assert_equal(consumer, tiny)


def test_push_lesson_and_pupil_through_the_mapping_then_read_them_back(tiny: SchoolData) -> None:
    """to_wire → import package → receipt → the next delta export holds the changes."""
    from connectors.base import PushItem
    from mapping.asiou import to_wire

    sim = Simulator(tiny, delay=0.0)
    consumer = Consumer(tiny)
    exts = {r.id: r.ext_ids["asiou"] for r in tiny.all_records() if "asiou" in r.ext_ids}

    def resolve_ext(entity: Entity, gid: str) -> str | None:
        return exts.get(gid)

    lesson = tiny.lessons[3].model_copy(update={"topic": "Новая тема", "homework": "§ 5, № 3"})
    leaver = next(p for p in tiny.pupils if p.status == "active")
    left = leaver.model_copy(update={"status": "left", "left_date": dt.date(2025, 10, 20)})
    with serve_in_thread(sim.app) as url:
        conn = connector(url)
        consumer.pull(conn)
        results = conn.push(
            Entity.LESSONS,
            [
                PushItem(
                    "k-lesson",
                    Entity.LESSONS,
                    "upsert",
                    to_wire(lesson, resolve_ext=resolve_ext),
                    remote_id=lesson.ext_ids["asiou"],
                )
            ],
        )
        results += conn.push(
            Entity.PUPILS,
            [
                PushItem(
                    "k-left",
                    Entity.PUPILS,
                    "upsert",
                    to_wire(left, resolve_ext=resolve_ext),
                    remote_id=leaver.ext_ids["asiou"],
                )
            ],
        )
        done = conn.poll([r.ticket for r in results if r.ticket])
        consumer.pull(conn)
        conn.close()
    assert {(r.key, r.status) for r in done} == {("k-lesson", "updated"), ("k-left", "updated")}
    assert consumer.contents(Entity.LESSONS)[lesson.id] == lesson.content()
    assert consumer.contents(Entity.PUPILS)[leaver.id] == left.content()
