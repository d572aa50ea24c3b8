"""Local journal edits pushed to АСИОУ through the engine: the import is asynchronous, so the
first push leaves receipts pending and a later push records each outcome — once, even when a
new connector and a reopened store (a restart) come between the send and the poll."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from core.entities import Entity
from fixtures.school import SchoolData
from mapping.model import Lesson, Mark, SchoolClass
from mapping.values import MarkValue
from store import Store
from tests.sync.conftest import BOTH, pull, push
from tests.sync.worlds import ASIOU_CODE, World, asiou_server, open_world, system_table


@pytest.fixture
def aworld(tiny_school: SchoolData, tmp_path: Any, secrets: None) -> Iterator[World]:
    # delay 0: a receipt asked for is processed; the push run asks for receipts before sending
    with asiou_server(tiny_school, delay=0.0) as (sim, url):
        w = open_world(
            f"sqlite:///{tmp_path}/s.db",
            tiny_school,
            {"asiou": system_table("asiou", url, ASIOU_CODE, BOTH)},
        )
        w.sim = sim  # type: ignore[attr-defined]
        yield w


def _mark_in_parallel(world: World, parallel: int, skip: set[str]) -> Mark:
    classes = {
        c.id: c.parallel
        for c in world.records(Entity.CLASSES).values()
        if isinstance(c, SchoolClass)
    }
    lessons = {
        les.id: les for les in world.records(Entity.LESSONS).values() if isinstance(les, Lesson)
    }
    return next(
        m
        for m in sorted(world.records(Entity.MARKS).values(), key=lambda r: r.id)
        if isinstance(m, Mark)
        and m.id not in skip
        and classes[lessons[m.lesson_id].class_id] == parallel
        and str(m.value) in ("3", "4", "5")
    )


def _edits(world: World) -> tuple[Mark, Mark, Mark]:
    """A changed mark in 5th grade (accepted), one in 10th grade (rejected: АСИОУ's half-year
    is closed), and a new mark in 5th grade."""
    ok = _mark_in_parallel(world, 5, set())
    bad = _mark_in_parallel(world, 10, set())
    taken = {(m.pupil_id, m.lesson_id) for m in world.records(Entity.MARKS).values()}  # type: ignore[attr-defined]
    lesson = next(
        les
        for les in world.records(Entity.LESSONS).values()
        if isinstance(les, Lesson)
        and les.class_id == world.records(Entity.LESSONS)[ok.lesson_id].class_id  # type: ignore[attr-defined]
        and les.subgroup_id is None
        and (ok.pupil_id, les.id) not in taken
    )
    new = Mark(
        id="local-new-asiou",
        school_id=ok.school_id,
        pupil_id=ok.pupil_id,
        lesson_id=lesson.id,
        value=MarkValue.parse("5"),
        work_type="Ответ на уроке",
        weight=1,
        created_at=dt.datetime(2025, 10, 20, 9, tzinfo=dt.UTC),
    )
    return (
        ok.model_copy(update={"value": MarkValue.parse("2")}),
        bad.model_copy(update={"value": MarkValue.parse("2")}),
        new,
    )


def _close_half_year_on_the_simulator(world: World) -> None:
    half = next(
        p for p in world.school.periods if p.kind == "half" and p.start == dt.date(2025, 9, 1)
    )
    world.sim.importer.closed_periods.add(half.ext_ids["asiou"])  # type: ignore[attr-defined]


def _outbox(world: World) -> dict[str, str]:
    with world.store.read() as tx:
        return {o.record_id: o.status for o in tx.outbox.find(status=None)}


def _check_outcomes(world: World, ok: Mark, bad: Mark, new: Mark) -> None:
    assert _outbox(world) == {ok.id: "accepted", bad.id: "rejected", new.id: "accepted"}
    with world.store.read() as tx:
        rejected = tx.conflicts.find(status="rejected")
    assert [(f.kind, f.record_id) for f in rejected] == [("push_rejected", bad.id)]
    assert "Период закрыт" in (rejected[0].detail or "")
    held = world.sim.held_marks()  # type: ignore[attr-defined]
    ext = world.ext_map("asiou", Entity.MARKS)
    assert held[ext[ok.id]]["Значение"] == "2"
    assert ext[bad.id] not in held  # the simulator still has its own value
    pupils = world.ext_map("asiou", Entity.PUPILS)
    lessons = world.ext_map("asiou", Entity.LESSONS)
    same = [
        a
        for a in held.values()
        if a.get("Учащийся") == pupils[new.pupil_id] and a.get("Урок") == lessons[new.lesson_id]
    ]
    assert len(same) == 1 and same[0]["Значение"] == "5"


def test_pending_receipts_are_polled_by_a_later_push_and_recorded_once(aworld: World) -> None:
    assert pull(aworld, "asiou").status == "success"
    _close_half_year_on_the_simulator(aworld)
    ok, bad, new = _edits(aworld)
    assert aworld.journal().write([ok, bad, new], actor="учитель").queued == 3

    sent = push(aworld, "asiou")
    assert sent.status == "success", sent.error
    assert sent.counts.total("awaiting") == 3  # sent, awaiting the receipt
    assert set(_outbox(aworld).values()) == {"sent"}

    polled = push(aworld, "asiou")
    # the edited mark is updated, the new one created (each in its own words), one refused
    assert polled.counts.as_dict() == {"marks": {"created": 1, "rejected": 1, "updated": 1}}
    assert polled.status == "partial"
    _check_outcomes(aworld, ok, bad, new)

    again = push(aworld, "asiou")  # every receipt is done: nothing is recorded twice
    assert again.status == "success" and again.counts.as_dict() == {}
    _check_outcomes(aworld, ok, bad, new)

    # the pull after the push: the accepted marks are what the store holds, nothing new
    back = pull(aworld, "asiou")
    assert back.counts.total("created") == 0, back.counts.as_dict()
    assert back.counts.total("deleted") == 0


def test_a_restart_between_send_and_poll_records_every_outcome_once(
    aworld: World, tmp_path: Any
) -> None:
    assert pull(aworld, "asiou").status == "success"
    _close_half_year_on_the_simulator(aworld)
    ok, bad, new = _edits(aworld)
    aworld.journal().write([ok, bad, new], actor="учитель")
    assert push(aworld, "asiou").counts.total("awaiting") == 3
    aworld.sim.process_now()  # type: ignore[attr-defined]

    # a restart: the store reopened, a new connector and pusher
    aworld.store.close()
    aworld.store = Store.open(aworld.config.store.url)
    first = push(aworld, "asiou")
    assert first.counts.as_dict() == {"marks": {"created": 1, "rejected": 1, "updated": 1}}
    second = push(aworld, "asiou")
    assert second.counts.as_dict() == {}
    _check_outcomes(aworld, ok, bad, new)
    with aworld.store.read() as tx:
        runs = [r for r in tx.runs.find() if r.direction == "push"]
    assert len(runs) == 3


def test_a_new_mark_edited_before_any_pull_stays_one_record_in_asiou(aworld: World) -> None:
    """The second version goes under the same ВнешнийИд as the first, so АСИОУ replaces the mark
    it made from the first instead of adding another; the next pull links that one mark."""
    assert pull(aworld, "asiou").status == "success"
    _, _, new = _edits(aworld)
    journal = aworld.journal()
    assert journal.write([new], actor="учитель").queued == 1
    push(aworld, "asiou")  # sent
    push(aworld, "asiou")  # receipt read: accepted
    edited = new.model_copy(update={"value": MarkValue.parse("4")})
    assert journal.write([edited], actor="учитель").queued == 1
    push(aworld, "asiou")
    push(aworld, "asiou")
    with aworld.store.read() as tx:
        assert sorted(o.status for o in tx.outbox.find(status=None)) == ["accepted", "accepted"]

    pupils = aworld.ext_map("asiou", Entity.PUPILS)
    lessons = aworld.ext_map("asiou", Entity.LESSONS)
    same = [
        m
        for m in aworld.sim.held_marks().values()  # type: ignore[attr-defined]
        if m.get("Учащийся") == pupils[new.pupil_id] and m.get("Урок") == lessons[new.lesson_id]
    ]
    assert [m["Значение"] for m in same] == ["4"]

    back = pull(aworld, "asiou")
    assert back.counts.total("created") == 0, back.counts.as_dict()
    assert new.id in aworld.ext_map("asiou", Entity.MARKS)
