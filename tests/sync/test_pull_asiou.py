"""АСИОУ through the sync engine (bundled packages, one transaction per package) against the
simulator over loopback into a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.asiou import PACKAGE_ENTITIES
from core.entities import Entity
from fixtures.school import SchoolData
from mapping.model import Lesson, Mark
from tests.sync.conftest import BOTH, pull
from tests.sync.worlds import (
    ASIOU_CODE,
    ASIOU_SKIP,
    World,
    asiou_server,
    findings,
    generated_vs_store,
    open_world,
    store_snapshot,
    system_table,
)


@pytest.fixture
def aworld(tiny_school: SchoolData, tmp_path: Any, secrets: None) -> Iterator[World]:
    with asiou_server(tiny_school, delay=0.0) as (sim, url):
        w = open_world(
            f"sqlite:///{tmp_path}/s.db",
            tiny_school,
            {"asiou": system_table("asiou", url, ASIOU_CODE, BOTH)},
        )
        w.sim = sim  # type: ignore[attr-defined]
        yield w


def _changed(report: Any) -> int:
    c = report.counts
    return int(c.total("created") + c.total("updated") + c.total("deleted"))


def test_full_pull_equals_the_school_and_a_second_pull_changes_nothing(aworld: World) -> None:
    first = pull(aworld, "asiou")
    assert first.status == "success", first.error
    for entity in PACKAGE_ENTITIES:
        gen, stored = generated_vs_store(aworld, "asiou", entity, ASIOU_SKIP)
        assert stored == gen, entity
    total = sum(len(aworld.school.records(e)) for e in PACKAGE_ENTITIES)
    assert first.counts.total("created") == total
    before = store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES)
    assert before["changes"] == total

    again = pull(aworld, "asiou")
    assert again.status == "success" and _changed(again) == 0, again.counts.as_dict()
    full = pull(aworld, "asiou", full=True)
    assert full.status == "success" and _changed(full) == 0, full.counts.as_dict()
    after = store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES)
    assert after["counts"] == before["counts"] and after["hashes"] == before["hashes"]
    assert after["changes"] == total


def test_a_package_cut_short_fails_the_run_and_leaves_the_store_as_it_was(
    aworld: World,
) -> None:
    assert pull(aworld, "asiou").status == "success"
    sim = aworld.sim  # type: ignore[attr-defined]
    mark = aworld.school.marks[0]
    sim.mutate(Entity.MARKS, mark.ext_ids["asiou"], Значение="2" if str(mark.value) != "2" else "3")
    before = store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES)

    for options in ({}, {"full": True}):
        sim.faults.force("cut")
        report = pull(aworld, "asiou", **options)
        assert report.status == "failed", (options, report.status, report.error)
        assert report.counts.as_dict() == {}  # nothing of the package happened
        assert store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES) == before
    with aworld.store.read() as tx:
        runs = tx.runs.find()
    assert sorted(r.status for r in runs) == ["failed", "failed", "success"]

    # the control: the same change in a whole package does reach the store
    ok = pull(aworld, "asiou")
    assert ok.status == "success" and ok.counts.total("updated") == 1
    after = store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES)
    assert after["checkpoint"] != before["checkpoint"]


def test_a_delta_brings_exactly_the_changes_made_on_the_simulator(aworld: World) -> None:
    assert pull(aworld, "asiou").status == "success"
    sim = aworld.sim  # type: ignore[attr-defined]
    school = aworld.school
    mark = next(m for m in school.marks if str(m.value) in ("3", "4", "5"))
    lesson = school.lessons[5]
    gone = school.attendance[3]
    new_value = "2"
    sim.mutate(Entity.MARKS, mark.ext_ids["asiou"], Значение=new_value)
    sim.mutate(Entity.LESSONS, lesson.ext_ids["asiou"], Тема="Новая тема урока")
    sim.delete(Entity.ATTENDANCE, gone.ext_ids["asiou"])
    changes_before = store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES)["changes"]

    report = pull(aworld, "asiou")
    assert report.status == "success", report.error
    by_entity = report.counts.as_dict()
    assert report.counts.total("created") == 0
    assert report.counts.total("updated") == 2 and report.counts.total("deleted") == 1, by_entity
    assert by_entity[Entity.MARKS.value]["updated"] == 1
    assert by_entity[Entity.LESSONS.value]["updated"] == 1
    assert by_entity[Entity.ATTENDANCE.value]["deleted"] == 1
    assert store_snapshot(aworld, "asiou", "bundle", PACKAGE_ENTITIES)["changes"] == (
        changes_before + 3
    )

    gid = {e: aworld.ext_map("asiou", e) for e in (Entity.MARKS, Entity.LESSONS)}
    marks = aworld.records(Entity.MARKS)
    [mark_gid] = [g for g, x in gid[Entity.MARKS].items() if x == mark.ext_ids["asiou"]]
    stored_mark = marks[mark_gid]
    assert isinstance(stored_mark, Mark) and str(stored_mark.value) == new_value
    [lesson_gid] = [g for g, x in gid[Entity.LESSONS].items() if x == lesson.ext_ids["asiou"]]
    stored_lesson = aworld.records(Entity.LESSONS)[lesson_gid]
    assert isinstance(stored_lesson, Lesson) and stored_lesson.topic == "Новая тема урока"
    assert len(aworld.records(Entity.ATTENDANCE)) == len(school.attendance) - 1
    # the delta again: nothing new
    assert _changed(pull(aworld, "asiou")) == 0


def test_a_full_package_that_lacks_records_deletes_them(aworld: World) -> None:
    assert pull(aworld, "asiou").status == "success"
    sim = aworld.sim  # type: ignore[attr-defined]
    school = aworld.school
    used = {m.lesson_id for m in school.marks} | {a.lesson_id for a in school.attendance}
    lesson = next(les for les in school.lessons if les.id not in used)
    mark, absence = school.marks[7], school.attendance[9]
    sim.delete(Entity.MARKS, mark.ext_ids["asiou"])
    sim.delete(Entity.ATTENDANCE, absence.ext_ids["asiou"])
    sim.delete(Entity.LESSONS, lesson.ext_ids["asiou"])

    report = pull(aworld, "asiou", full=True)
    assert report.status == "success", report.error
    assert report.counts.total("deleted") == 3, report.counts.as_dict()
    assert report.counts.total("created") == report.counts.total("updated") == 0
    for entity, rec in (
        (Entity.MARKS, mark),
        (Entity.ATTENDANCE, absence),
        (Entity.LESSONS, lesson),
    ):
        held = set(aworld.ext_map("asiou", entity).values())
        assert rec.ext_ids["asiou"] not in held, entity
        assert len(aworld.records(entity)) == len(school.records(entity)) - 1, entity


def test_a_record_the_store_refuses_is_set_aside_and_its_page_goes_in_linked(
    aworld: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page the store refuses is applied record by record from the page as read: every other
    mark goes in with its identity link (a second pull finds them, creates none), and the one
    set aside is named by its АСИОУ id — resolving a page in place never leaks into the retry."""
    import sync.pull as pull_module
    from core.errors import DataRejected

    victim = aworld.school.marks[3].ext_ids["asiou"]
    real = pull_module.apply_decisions

    def refusing(tx: Any, ctx: Any, entity: Entity, decisions: Any, *args: Any) -> Any:
        if any(d.incoming is not None and d.incoming.ext_ids.get("asiou") == victim
               for d in decisions):  # fmt: skip
            raise DataRejected("refused by the test")
        return real(tx, ctx, entity, decisions, *args)

    monkeypatch.setattr(pull_module, "apply_decisions", refusing)
    first = pull(aworld, "asiou")
    assert first.status == "partial", first.error
    marks = aworld.records(Entity.MARKS)
    assert len(marks) == len(aworld.school.marks) - 1
    linked = aworld.ext_map("asiou", Entity.MARKS)
    assert sorted(linked.values()) == sorted(
        m.ext_ids["asiou"] for m in aworld.school.marks if m.ext_ids["asiou"] != victim
    )
    [q] = [c for c in findings(aworld, status=None) if c.kind == "quarantined"]
    assert q.record_id == f"asiou:{victim}"

    again = pull(aworld, "asiou", full=True)
    assert again.counts.total("created") == 0, again.counts.as_dict()
    assert len(aworld.records(Entity.MARKS)) == len(aworld.school.marks) - 1
