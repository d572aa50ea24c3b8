"""ES2 pushes end to end: batches with a rejected item, repeated batches, repeated items."""

from __future__ import annotations

from connectors.base import PushItem
from core.entities import Entity
from fixtures.es2 import SimClock, Simulator
from fixtures.generator import generate_school
from fixtures.serve import serve_in_thread
from mapping.es2 import to_wire
from mapping.model import Attendance, Mark
from tests.e2e.es2_helpers import PROFILE, SIM_NOW, connector


def test_batch_with_rejection_and_repeated_batch_holds_each_mark_once() -> None:
    school = generate_school(5, "tiny")
    parallels = {c.id: c.parallel for c in school.classes}
    closed, closed_lesson = next(
        (p, le)
        for le in sorted(school.lessons, key=lambda le: le.date)
        for p in school.periods
        if p.covers(parallels[le.class_id], le.date)
    )
    sim = Simulator(school, clock=SimClock(SIM_NOW), closed_periods={int(closed.ext_ids["es2"])})

    def ext(entity: Entity, gid: str) -> str | None:
        for rec in school.records(entity):
            if rec.id == gid:
                return rec.ext_ids.get("es2")
        return None

    pupil = next(p for p in school.pupils if p.status == "active")
    open_lesson = next(
        le for le in school.lessons if not closed.covers(parallels[le.class_id], le.date)
    )
    marks = [
        Mark(
            id=f"g{i}",
            school_id="sch",
            pupil_id=pupil.id,
            lesson_id=lesson.id,
            value=value,
            work_type="Контрольная работа",
            weight=2,
        )
        for i, (lesson, value) in enumerate(
            [(open_lesson, "5"), (open_lesson, "4/5"), (closed_lesson, "3")]
        )
    ]
    items = [
        PushItem(
            key=m.id,
            entity=Entity.MARKS,
            op="upsert",
            payload=to_wire(m, profile=PROFILE, resolve_ext=ext),
        )
        for m in marks
    ]
    unknown = dict(items[0].payload, pupil_id=1)  # no such pupil
    items.append(PushItem(key="g-unknown", entity=Entity.MARKS, op="upsert", payload=unknown))

    with serve_in_thread(sim.app) as url:
        conn = connector(url, school)
        before = sim.state.count("marks")
        first = conn.push(Entity.MARKS, items)
        again = conn.push(Entity.MARKS, items)  # the same batch: the same Idempotency-Key
        one_more = conn.push(Entity.MARKS, items[:1])  # an item repeated in a new batch
        conn.close()

    assert [r.status for r in first] == ["created", "created", "rejected", "rejected"]
    assert first[2].error == "lesson of a closed period"
    assert first[3].error == "unknown pupil"
    assert again == first
    assert one_more[0].status == "duplicate" and one_more[0].remote_id == first[0].remote_id
    assert sim.state.count("marks") == before + 2
    held = sim.state.col("marks").items[int(first[1].remote_id or 0)]
    assert held["value"] == "4/5" and held["work_type"]["code"] == "КР"


def test_attendance_late_code_and_invalid_value_rejected() -> None:
    school = generate_school(5, "tiny")
    sim = Simulator(school, clock=SimClock(SIM_NOW), closed_periods=set())
    pupil, lesson = school.pupils[0], school.lessons[-1]
    att = Attendance(id="a1", school_id="sch", pupil_id=pupil.id, lesson_id=lesson.id, code="О")
    payload = to_wire(
        att,
        profile=PROFILE,
        resolve_ext=lambda e, g: (
            pupil.ext_ids["es2"] if e is Entity.PUPILS else lesson.ext_ids["es2"]
        ),
    )
    bad_mark = {
        "pupil_id": int(pupil.ext_ids["es2"]),
        "lesson_id": int(lesson.ext_ids["es2"]),
        "value": "6",
        "work_type": "КР",
        "weight": 1,
    }
    with serve_in_thread(sim.app) as url:
        conn = connector(url, school)
        (res,) = conn.push(
            Entity.ATTENDANCE, [PushItem("a1", Entity.ATTENDANCE, "upsert", payload)]
        )
        (bad,) = conn.push(Entity.MARKS, [PushItem("m6", Entity.MARKS, "upsert", bad_mark)])
        conn.close()
    assert res.status in ("created", "updated")
    assert sim.state.col("attendance").items[int(res.remote_id or 0)]["code"] == "ОП"
    assert bad.status == "rejected" and bad.error == "invalid mark value"
