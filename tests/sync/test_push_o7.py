"""Pushes to the О7 simulator over loopback: a mark entered here, then edited here, is ONE mark
in О7 with the new value (SaveMarks deduplicates on ext_id, which names the record)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from core.entities import Entity
from fixtures.school import SchoolData
from mapping.model import Lesson, Mark, Pupil, SchoolClass
from mapping.values import MarkValue
from tests.sync.conftest import pull, push
from tests.sync.test_pull_o7 import o7_table
from tests.sync.worlds import World, o7_server, open_world


@pytest.fixture
def oworld(tiny_school: SchoolData, tmp_path: Any, secrets: None) -> Iterator[World]:
    with o7_server(tiny_school) as (sim, url):
        w = open_world(f"sqlite:///{tmp_path}/s.db", tiny_school, {"o7": o7_table(url, sim)})
        w.sim = sim  # type: ignore[attr-defined]
        yield w


def _new_mark(world: World) -> Mark:
    """A mark for an active pupil at a lesson of their class (grade 2 or above) with none."""
    classes = world.records(Entity.CLASSES)
    pupils = [p for p in world.records(Entity.PUPILS).values() if isinstance(p, Pupil)]
    marked = {
        (m.pupil_id, m.lesson_id)
        for m in world.records(Entity.MARKS).values()
        if isinstance(m, Mark)
    }
    for lesson in world.records(Entity.LESSONS).values():
        klass = classes.get(lesson.class_id) if isinstance(lesson, Lesson) else None
        if not isinstance(klass, SchoolClass) or klass.parallel < 2 or lesson.subgroup_id:
            continue
        for p in pupils:
            if p.class_id == klass.id and p.status == "active" and (p.id, lesson.id) not in marked:
                return Mark(
                    id="local-mark-1",
                    school_id=world.school.school.id,
                    pupil_id=p.id,
                    lesson_id=lesson.id,
                    value=MarkValue.parse("4"),
                    work_type="Ответ на уроке",
                    created_at=dt.datetime.combine(lesson.date, dt.time(9), tzinfo=dt.UTC),
                )
    raise AssertionError("the tiny school has no unmarked pupil")


def test_a_mark_edited_here_after_its_push_is_one_mark_in_o7_with_the_new_value(
    oworld: World,
) -> None:
    sim = oworld.sim  # type: ignore[attr-defined]
    assert pull(oworld, "o7").status == "success"
    before = sim.data.mark_count()
    mark = _new_mark(oworld)
    journal = oworld.journal()
    assert not journal.write([mark], actor="учитель").refused
    first = push(oworld, "o7")
    assert first.status == "success", first.error
    assert sim.data.mark_count() == before + 1

    journal.write([mark.model_copy(update={"value": MarkValue.parse("5")})], actor="учитель")
    second = push(oworld, "o7")
    assert second.status == "success", second.error
    assert sim.data.mark_count() == before + 1  # updated in place, not a second mark
    ext = oworld.ext_map("o7", Entity.MARKS)[mark.id]
    found = sim.data.find_mark(ext)
    assert found is not None and found[1]["mark"] == "5"
