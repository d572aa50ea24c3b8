"""The school's rules through the engine (АСИОУ simulator, real store): a corrected mark is applied
and noted, a change inside a closed period waits for a person, a grade-1 mark is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.entities import Entity
from fixtures.school import SchoolData
from mapping.model import Mark, Period
from sync.periods import close_period
from sync.resolutions import resolve_conflict
from tests.sync.conftest import BOTH, pull
from tests.sync.worlds import ASIOU_CODE, World, asiou_server, open_world, system_table


@pytest.fixture
def aworld(tiny_school: SchoolData, tmp_path: Any, secrets: None) -> Iterator[World]:
    with asiou_server(tiny_school, delay=0.0) as (sim, url):
        w = open_world(
            f"sqlite:///{tmp_path}/s.db",
            tiny_school,
            {"asiou": system_table("asiou", url, ASIOU_CODE, BOTH)},
        )
        w.sim = sim  # type: ignore[attr-defined]
        assert pull(w, "asiou").status == "success"
        yield w


def _fifth_grade_marks(world: World) -> list[Mark]:
    parallel = {c.id: c.parallel for c in world.school.classes}
    lessons = {les.id: les for les in world.school.lessons}
    return [
        m
        for m in world.school.marks
        if parallel[lessons[m.lesson_id].class_id] == 5 and str(m.value) in ("4", "5")
    ]


def _stored(world: World, mark: Mark) -> Mark:
    gid = next(
        g for g, x in world.ext_map("asiou", Entity.MARKS).items() if x == mark.ext_ids["asiou"]
    )
    rec = world.records(Entity.MARKS)[gid]
    assert isinstance(rec, Mark)
    return rec


def _findings(world: World, status: str, kind: str) -> list[Any]:
    with world.store.read() as tx:
        return [c for c in tx.conflicts.find(status=status) if c.kind == kind]


def _close_first_quarter(world: World) -> Period:
    quarter = next(p for p in world.school.periods if p.kind == "quarter")
    gid = next(
        g
        for g, x in world.ext_map("asiou", Entity.PERIODS).items()
        if x == quarter.ext_ids["asiou"]
    )
    stored = world.records(Entity.PERIODS)[gid]
    assert isinstance(stored, Period) and not stored.closed
    return close_period(world.store, stored.id, by="завуч").period


def test_a_corrected_mark_is_applied_and_noted(aworld: World) -> None:
    mark = _fifth_grade_marks(aworld)[0]
    aworld.sim.mutate(Entity.MARKS, mark.ext_ids["asiou"], Значение="2")  # type: ignore[attr-defined]
    report = pull(aworld, "asiou")
    assert report.status == "success" and report.counts.total("updated") == 1
    stored = _stored(aworld, mark)
    assert str(stored.value) == "2"
    [noted] = _findings(aworld, "noted", "corrected_mark")
    assert noted.record_id == stored.id and noted.field == "value"
    assert noted.current is not None and noted.incoming is not None
    assert noted.current["value"] == str(mark.value) and noted.incoming["value"] == "2"


def test_a_change_in_a_closed_period_waits_and_take_remote_applies_it(aworld: World) -> None:
    period = _close_first_quarter(aworld)
    mark = _fifth_grade_marks(aworld)[0]
    aworld.sim.mutate(Entity.MARKS, mark.ext_ids["asiou"], Значение="2")  # type: ignore[attr-defined]
    report = pull(aworld, "asiou")
    assert report.counts.total("conflicts") == 1 and report.counts.total("updated") == 0
    assert str(_stored(aworld, mark).value) == str(mark.value)  # not applied
    [conflict] = _findings(aworld, "open", "closed_period")
    assert conflict.record_id == _stored(aworld, mark).id
    # the gateway's own knowledge survives the system's pull: the period is still closed
    held_period = aworld.records(Entity.PERIODS)[period.id]
    assert isinstance(held_period, Period) and held_period.closed

    resolved = resolve_conflict(aworld.store, conflict.id, "remote", by="завуч")
    assert resolved.status != "open" and resolved.resolution == "take-remote"
    assert str(_stored(aworld, mark).value) == "2"
    # the store and АСИОУ now agree: the next full read changes nothing and raises nothing
    again = pull(aworld, "asiou", full=True)
    assert again.counts.total("conflicts") == 0 and again.counts.total("updated") == 0, (
        again.counts.as_dict()
    )
    assert _findings(aworld, "open", "closed_period") == []


def test_take_local_keeps_the_store_and_queues_a_push(aworld: World) -> None:
    _close_first_quarter(aworld)
    mark = _fifth_grade_marks(aworld)[1]
    aworld.sim.mutate(Entity.MARKS, mark.ext_ids["asiou"], Значение="2")  # type: ignore[attr-defined]
    assert pull(aworld, "asiou").counts.total("conflicts") == 1
    [conflict] = _findings(aworld, "open", "closed_period")
    with aworld.store.read() as tx:
        queued_before = len(tx.outbox.find(status="pending", limit=1_000_000))

    resolve_conflict(aworld.store, conflict.id, "local", by="завуч")
    stored = _stored(aworld, mark)
    assert str(stored.value) == str(mark.value)
    with aworld.store.read() as tx:
        pending = tx.outbox.find(status="pending", limit=1_000_000)
        [after] = [c for c in tx.conflicts.find(status=None) if c.id == conflict.id]
    assert after.status != "open" and after.resolution == "take-local"
    assert len(pending) == queued_before + 1
    new = [o for o in pending if o.record_id == stored.id]
    assert [(o.system, o.entity, o.op) for o in new] == [("asiou", "marks", "upsert")]


def test_a_grade1_mark_from_a_system_is_rejected(aworld: World) -> None:
    grade1 = next(c for c in aworld.school.classes if c.parallel == 1)
    pupil = next(p for p in aworld.school.pupils if p.class_id == grade1.id)
    lesson = next(les for les in aworld.school.lessons if les.class_id == grade1.id)
    attrs = {
        "Ид": "M9999001",
        "Учащийся": pupil.ext_ids["asiou"],
        "Урок": lesson.ext_ids["asiou"],
        "Значение": "5",
        "ВидРаботы": "Ответ на уроке",
        "Вес": "1",
        "Изменена": "2025-10-20T10:00:00+03:00",
        "Удалена": "0",
    }
    aworld.sim.state.put(Entity.MARKS, attrs)  # type: ignore[attr-defined]
    marks_before = len(aworld.records(Entity.MARKS))
    report = pull(aworld, "asiou")
    assert report.status == "partial"
    assert report.counts.as_dict()[Entity.MARKS.value] == {"rejected": 1}
    assert len(aworld.records(Entity.MARKS)) == marks_before
    [refused] = _findings(aworld, "rejected", "grade1_mark")
    assert refused.incoming is not None and refused.incoming["value"] == "5"


def test_a_system_moving_a_closed_periods_dates_waits_for_a_person(aworld: World) -> None:
    period = _close_first_quarter(aworld)
    aworld.sim.mutate(Entity.PERIODS, period.ext_ids["asiou"], Окончание="2025-11-02")  # type: ignore[attr-defined]
    report = pull(aworld, "asiou")
    assert report.counts.as_dict()[Entity.PERIODS.value] == {"conflicts": 1}
    held = aworld.records(Entity.PERIODS)[period.id]
    assert isinstance(held, Period) and held.end == period.end and held.closed
    [conflict] = _findings(aworld, "open", "closed_period")
    assert (
        conflict.record_id == period.id
        and conflict.field == "end"
        and period.id in (conflict.detail or "")
    )
    assert conflict.incoming is not None and conflict.incoming["end"] == "2025-11-02"
    # a person takes the system's dates; the period stays closed
    resolve_conflict(aworld.store, conflict.id, "remote", by="завуч")
    moved = aworld.records(Entity.PERIODS)[period.id]
    assert isinstance(moved, Period) and str(moved.end) == "2025-11-02" and moved.closed
