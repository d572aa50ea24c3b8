"""A record the store holds that no longer validates (a mark ``7``, a malformed СНИЛС — stored
before the journal validated its writes) is refused as one push item with its reason: the push
goes on, the run ends, and the СНИЛС reaches neither the run, the outbox nor the log."""

from __future__ import annotations

from typing import Any

from structlog.testing import capture_logs

from core.entities import Entity
from mapping.model import Lesson, Mark, Pupil
from mapping.values import MarkValue
from sync.outbox import pushes
from tests.sync.conftest import pull, push
from tests.sync.worlds import World

BAD_SNILS = "11223344599"  # eleven digits, wrong checksum


def _store_unchecked(world: World, entity: Entity, record: Any) -> None:
    """Write ``record`` as the journal did before it validated, and queue its push to ES2."""
    sid = world.school.school.id
    with world.store.begin() as tx:
        tx.records.upsert(entity, [record], source="local", actor="учитель")
        versions = tx.records.versions(entity, [record.id])
        tx.outbox.enqueue_many(
            pushes(sid, entity, [record.id], op="upsert", targets=["es2"], versions=versions,
                   origin="local")
        )  # fmt: skip


def test_a_stored_invalid_record_is_refused_at_push_and_the_rest_goes_through(
    world: World,
) -> None:
    assert pull(world).status == "success"
    lessons = world.records(Entity.LESSONS)
    marks = sorted(
        (m for m in world.records(Entity.MARKS).values() if isinstance(m, Mark)),
        key=lambda m: lessons[m.lesson_id].date if isinstance(lessons[m.lesson_id], Lesson) else 0,
        reverse=True,
    )
    bad_mark = marks[0].model_copy(update={"value": "7"})  # model_copy: not validated
    pupil = next(p for p in world.records(Entity.PUPILS).values() if isinstance(p, Pupil))
    bad_pupil = pupil.model_copy(update={"snils": BAD_SNILS})
    _store_unchecked(world, Entity.MARKS, bad_mark)
    _store_unchecked(world, Entity.PUPILS, bad_pupil)
    good = marks[1].model_copy(
        update={"value": MarkValue.parse("3" if str(marks[1].value) != "3" else "4")}
    )
    _store_unchecked(world, Entity.MARKS, good)  # a valid edit

    with capture_logs() as logs:
        report = push(world)
    assert report.status == "partial" and report.error is None, (report.status, report.error)
    assert report.counts.total("rejected") == 2 and report.counts.total("updated") == 1
    with world.store.read() as tx:
        items = {o.record_id: o for o in tx.outbox.find(status=None, limit=10_000)}
        runs = tx.runs.find(limit=10)
        refused = [c for c in tx.conflicts.find(status="rejected") if c.kind == "push_rejected"]
    assert items[good.id].status == "accepted"
    assert items[bad_mark.id].status == "rejected" and "value" in (items[bad_mark.id].error or "")
    assert "not a mark value" in (items[bad_mark.id].error or "")
    assert items[bad_pupil.id].status == "rejected" and "snils" in (items[bad_pupil.id].error or "")
    assert not [o for o in items.values() if o.status == "sending"]
    assert all(r.status != "running" for r in runs)
    assert {c.record_id for c in refused} == {bad_mark.id, bad_pupil.id}
    said = repr(logs) + repr(items) + repr(runs) + repr([c.detail for c in refused])
    assert BAD_SNILS not in said and BAD_SNILS[:9] not in said
    # ES2 got the good mark, and the next push has nothing left to try
    assert world.sim.state.col("marks").items[int(good.ext_ids["es2"])]["value"] == str(good.value)  # type: ignore[attr-defined]
    again = push(world)
    assert again.status == "success" and again.counts.total("rejected") == 0
