"""A school synced from the ES2 simulator, then made to disagree with the store in every way a
reconciliation must find: a changed mark, a mark gone from the system, a mark only the system has,
a changed attendance code, a pupil only the system has, a changed period mark — and a local
correction already waiting in the outbox."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from core.entities import Entity
from fixtures.school import SchoolData
from mapping.model import Attendance, FinalMark, Mark, Pupil
from store import Store
from sync import jobs
from sync.jobs import Job
from sync.pull import PullOptions
from tests.sync.worlds import World, es2_server, make_config, system_table

BOTH = {
    e.value: {"direction": "both"} for e in (Entity.MARKS, Entity.ATTENDANCE, Entity.FINAL_MARKS)
}
NEW_MARK_EXT = "7999999"
NEW_PUPIL_EXT = "9999001"


@dataclass(frozen=True)
class Seeded:
    """One difference the world was given: where a report must show it, once."""

    name: str
    section: str
    entity: Entity
    record_id: str | None
    external_id: str | None
    fields: tuple[str, ...] = ()


@dataclass
class SeededWorld:
    world: World
    sim: Any
    seeded: list[Seeded] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.world.store

    @property
    def school_id(self) -> str:
        return self.world.school.school.id

    def job(self) -> Job:
        return jobs.open_job(self.store, self.world.school_config.setup("es2"))


def _pull(world: World) -> None:
    job = jobs.open_job(world.store, world.school_config.setup("es2"))
    try:
        report = jobs.pull(world.store, world.config.sync, job, PullOptions())
    finally:
        job.close()
    assert report.status == "success", report.error


def _copy(school: SchoolData) -> SchoolData:
    new = copy.copy(school)
    new._index = {}
    for entity in Entity:
        if entity not in (Entity.SCHOOLS, Entity.YEARS):
            setattr(new, entity.value, list(school.records(entity)))
    return new


def _graded(school: SchoolData) -> tuple[set[str], dict[str, int]]:
    """Lessons of classes that take marks (grade 2 up), and each class's parallel."""
    parallel = {c.id: c.parallel for c in school.classes}
    lessons = {le.id for le in school.lessons if parallel[le.class_id] > 1}
    return lessons, parallel


def _other(value: str) -> str:
    return "2" if value != "2" else "3"


def seed(world: World, sim: Any) -> SeededWorld:
    """Change the simulator's school after a sync, and the store through the local journal."""
    school = world.school
    new = _copy(school)
    lessons, _ = _graded(school)
    gid_of = {
        e: {ext: gid for gid, ext in world.ext_map("es2", e).items()}
        for e in (Entity.MARKS, Entity.ATTENDANCE, Entity.FINAL_MARKS, Entity.PUPILS)
    }
    later = max(r.modified_at for r in school.all_records() if r.modified_at) + dt.timedelta(
        hours=1
    )
    out: list[Seeded] = []
    graded_marks = [i for i, m in enumerate(new.marks) if m.lesson_id in lessons]

    # a mark whose value changed in the system
    i = graded_marks[0]
    m = new.marks[i]
    new.marks[i] = m.model_copy(update={"value": _other(str(m.value)), "modified_at": later})
    out.append(
        Seeded("changed value", "different", Entity.MARKS, gid_of[Entity.MARKS][m.ext_ids["es2"]],
               m.ext_ids["es2"], ("value",))
    )  # fmt: skip
    # a mark the system no longer has
    j = graded_marks[5]
    gone = new.marks[j]
    out.append(
        Seeded("missing in the system", "only_store", Entity.MARKS,
               gid_of[Entity.MARKS][gone.ext_ids["es2"]], gone.ext_ids["es2"])
    )  # fmt: skip
    # a mark only the system has
    template = new.marks[graded_marks[10]]
    added = Mark(
        id="seeded-new-mark",
        school_id=template.school_id,
        ext_ids={"es2": NEW_MARK_EXT},
        pupil_id=template.pupil_id,
        lesson_id=template.lesson_id,
        value="5",
        work_type="Тест",
        modified_at=later,
    )
    out.append(Seeded("missing in the store", "only_system", Entity.MARKS, None, NEW_MARK_EXT))
    # an attendance code changed in the system
    k = next(i for i, a in enumerate(new.attendance) if a.lesson_id in lessons)
    a = new.attendance[k]
    code = "Б" if a.code != "Б" else "У"
    new.attendance[k] = Attendance.model_validate({**a.model_dump(), "code": code})
    out.append(
        Seeded("changed attendance code", "different", Entity.ATTENDANCE,
               gid_of[Entity.ATTENDANCE][a.ext_ids["es2"]], a.ext_ids["es2"], ("code",))
    )  # fmt: skip
    # a pupil only the system has
    p0 = next(p for p in new.pupils if p.status == "active" and p.class_id)
    extra = Pupil(
        id="seeded-new-pupil",
        school_id=p0.school_id,
        ext_ids={"es2": NEW_PUPIL_EXT},
        last_name="Новикова",
        first_name="Алиса",
        middle_name="Павловна",
        birth_date=p0.birth_date,
        class_id=p0.class_id,
        modified_at=later,
    )
    out.append(Seeded("extra pupil", "only_system", Entity.PUPILS, None, NEW_PUPIL_EXT))
    # a period mark changed in the system
    f = next(
        i for i, fm in enumerate(new.final_marks) if fm.kind == "period" and fm.value.is_numeric
    )
    fm = new.final_marks[f]
    new.final_marks[f] = FinalMark.model_validate(
        {**fm.model_dump(), "value": _other(str(fm.value))}
    )
    out.append(
        Seeded("different period mark", "different", Entity.FINAL_MARKS,
               gid_of[Entity.FINAL_MARKS][fm.ext_ids["es2"]], fm.ext_ids["es2"], ("value",))
    )  # fmt: skip

    del new.marks[j]
    new.marks.append(added)
    new.pupils.append(extra)
    sim.clock.advance(hours=1)
    sim.sync_to(new)

    # a local correction on its way to the system (in the outbox)
    local = world.records(Entity.MARKS)[
        gid_of[Entity.MARKS][new.marks[graded_marks[20]].ext_ids["es2"]]
    ]
    assert isinstance(local, Mark)
    written = world.journal().write(
        [local.model_copy(update={"value": _other(str(local.value))})], actor="Учитель Т."
    )
    assert written.ok and written.queued == 1, written.refused
    out.append(
        Seeded("pending in the outbox", "pending", Entity.MARKS, local.id,
               local.ext_ids.get("es2") or world.ext_map("es2", Entity.MARKS)[local.id], ("value",))
    )  # fmt: skip
    return SeededWorld(world, sim, out)


def synced_world(
    school: SchoolData, store_url: str, systems_extra: dict[str, Any] | None = None
) -> Iterator[tuple[World, Any]]:
    """The school behind the ES2 simulator, pulled into a fresh store."""
    with es2_server(school) as (sim, url):
        config = make_config(
            store_url, school, {"es2": system_table("es2", url, str(sim.school_id), BOTH)}
        )
        store = Store.open(config.store.url)
        store.upgrade()
        world = World(school, store, config)
        try:
            _pull(world)
            yield world, sim
        finally:
            store.close()
