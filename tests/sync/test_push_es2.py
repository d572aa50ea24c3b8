"""Local journal → outbox → ES2 simulator, and back: pull → local edit → push → pull is a fixed point."""

from __future__ import annotations

import datetime as dt

from core.entities import Entity
from mapping.model import Mark
from mapping.values import MarkValue
from tests.sync.conftest import pull, push
from tests.sync.worlds import World


def es2_marks(world: World) -> dict[int, dict[str, object]]:
    col = world.sim.state.col("marks")  # type: ignore[attr-defined]
    return {i: it for i, it in col.items.items() if not it.get("deleted")}


def test_local_edit_is_pushed_once_and_the_next_pull_is_a_fixed_point(world: World) -> None:
    assert pull(world).status == "success"
    marks = world.records(Entity.MARKS)
    ext = world.ext_map("es2", Entity.MARKS)
    changed = next(m for m in marks.values() if isinstance(m, Mark) and str(m.value) == "5")
    changed = changed.model_copy(update={"value": MarkValue.parse("4")})
    # a new mark for a pupil in a lesson that had none from this pupil
    template = next(m for m in marks.values() if isinstance(m, Mark) and m.id != changed.id)
    taken = {(m.pupil_id, m.lesson_id) for m in marks.values() if isinstance(m, Mark)}
    lessons = world.records(Entity.LESSONS)
    lesson_id = next(
        lid
        for lid in lessons
        if (template.pupil_id, lid) not in taken
        and lessons[lid].class_id
        == next(  # type: ignore[attr-defined]
            lessons[m.lesson_id] for m in [template]
        ).class_id  # type: ignore[attr-defined]
        and lessons[lid].subgroup_id is None
    )  # type: ignore[attr-defined]
    new = Mark(
        id="local-new-1",
        school_id=template.school_id,
        pupil_id=template.pupil_id,
        lesson_id=lesson_id,
        value="5",
        work_type="Ответ на уроке",
        weight=1,
        created_at=dt.datetime(2025, 10, 20, 9, tzinfo=dt.UTC),
    )
    before = len(es2_marks(world))

    counts = world.journal().write([changed, new], actor="учитель")
    assert counts.queued == 2 and counts.ok
    report = push(world)
    assert report.status == "success", report.error
    held = es2_marks(world)
    assert len(held) == before + 1
    assert held[int(ext[changed.id])]["value"] == "4"
    with world.store.read() as tx:
        assert {o.status for o in tx.outbox.find(status=None)} == {"accepted"}
        new_ext = tx.identity.ext_of("es2", Entity.MARKS, ["local-new-1"])
    assert held[int(new_ext["local-new-1"])]["value"] == "5"

    again = pull(world)
    assert again.counts.total("created") == again.counts.total("updated") == 0, (
        again.counts.as_dict()
    )
    assert again.counts.total("conflicts") == 0
    assert push(world).counts.total("updated") == 0  # nothing queued: nothing sent
    assert len(es2_marks(world)) == before + 1


def test_a_push_rejected_by_the_system_reaches_the_operator(world: World) -> None:
    assert pull(world).status == "success"
    mark = next(m for m in world.records(Entity.MARKS).values() if isinstance(m, Mark))
    world.sim.state.closed_periods.update(  # type: ignore[attr-defined]
        int(p.ext_ids["es2"]) for p in world.school.periods
    )
    world.journal().write(
        [mark.model_copy(update={"value": MarkValue.parse("2")})], actor="учитель"
    )
    report = push(world)
    assert report.status == "partial" and report.counts.total("rejected") == 1
    with world.store.read() as tx:
        [item] = tx.outbox.find(status="rejected")
        assert "closed period" in (item.error or "")
        [finding] = tx.conflicts.find(status="rejected")
        assert finding.kind == "push_rejected" and finding.record_id == mark.id
