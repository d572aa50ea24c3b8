"""О7 through the sync engine: names resolved against the roster the same pull brings, windowed
snapshots that find deletions, and a window that fails deleting nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from core.entities import PULL_ORDER, Entity
from fixtures.school import SchoolData
from mapping.model import Mark, Record
from tests.sync.conftest import pull
from tests.sync.worlds import (
    O7_OPTIONS,
    World,
    o7_server,
    open_world,
    store_snapshot,
    system_table,
)

O7_BOTH = {e.value: {"direction": "both"} for e in (Entity.MARKS, Entity.ATTENDANCE)}
O7_ENTITIES = [e for e in PULL_ORDER if e is not Entity.ENROLMENTS]
#: content fields the О7 contract cannot carry (docs/o7.md)
NOT_CARRIED: dict[Entity, set[str]] = {
    Entity.PERIODS: {"closed"},
    Entity.SUBJECTS: {"short"},
    Entity.PUPILS: {"snils", "left_date"},
    Entity.MARKS: {"weight", "created_at"},
}


def o7_table(url: str, sim: Any, **over: Any) -> dict[str, Any]:
    table = system_table("o7", url, sim.data.school_guid, O7_BOTH, O7_OPTIONS)
    return {**table, **over}


@pytest.fixture
def oworld(tiny_school: SchoolData, tmp_path: Any, secrets: None) -> Iterator[World]:
    with o7_server(tiny_school) as (sim, url):
        w = open_world(
            f"sqlite:///{tmp_path}/s.db", tiny_school, {"o7": o7_table(url, sim, retries=1)}
        )
        w.sim = sim  # type: ignore[attr-defined]
        yield w


# -- comparing the store with the school, by what О7 identifies records with -----------------


def _gen_ids(world: World) -> dict[tuple[Entity, str], str]:
    """(entity, gateway id) → the generator's id of the same real-world record."""
    school = world.school
    out: dict[tuple[Entity, str], str] = {}
    for entity in (Entity.CLASSES, Entity.PUPILS, Entity.LESSONS, Entity.MARKS):
        by_ext = {r.ext_ids["o7"]: r.id for r in school.records(entity)}
        for gid, ext in world.ext_map("o7", entity).items():
            if ext in by_ext:
                out[(entity, gid)] = by_ext[ext]
    natural: dict[Entity, Any] = {
        Entity.PERIODS: lambda r: (r.kind, r.start, r.end),
        Entity.SUBJECTS: lambda r: r.name,
        Entity.TEACHERS: lambda r: (r.last_name, r.first_name, r.middle_name),
    }
    for entity, key in natural.items():
        by_key = {key(r): r.id for r in school.records(entity)}
        for rec in world.records(entity).values():
            if key(rec) in by_key:
                out[(entity, rec.id)] = by_key[key(rec)]
    by_key = {(g.class_id, g.subject_id, g.name): g.id for g in school.subgroups}
    for g in world.records(Entity.SUBGROUPS).values():
        k = (
            out.get((Entity.CLASSES, g.class_id)),  # type: ignore[attr-defined]
            out.get((Entity.SUBJECTS, g.subject_id)),  # type: ignore[attr-defined]
            g.name,  # type: ignore[attr-defined]
        )
        if k in by_key:
            out[(Entity.SUBGROUPS, g.id)] = by_key[k]
    return out


def _key(entity: Entity, rid: str, content: dict[str, Any]) -> Any:
    if entity is Entity.ATTENDANCE:
        return (content["pupil_id"], content["lesson_id"])
    if entity is Entity.FINAL_MARKS:
        return tuple(content[f] for f in ("pupil_id", "subject_id", "period_id", "kind"))
    return rid


def _content(entity: Entity, rec: Record) -> dict[str, Any]:
    data = rec.content()
    for name in NOT_CARRIED.get(entity, ()):
        data.pop(name, None)
    if "member_ids" in data:
        data["member_ids"] = sorted(data["member_ids"])
    return data


def school_vs_store(world: World, entity: Entity) -> tuple[dict[Any, Any], dict[Any, Any]]:
    back = _gen_ids(world)
    want = {}
    for rec in world.school.records(entity):
        c = _content(entity, rec)
        want[_key(entity, rec.id, c)] = c
    have = {}
    for rec in world.records(entity).values():
        c = _content(entity, rec)
        for name, target in rec.refs.items():
            if c.get(name) is not None:
                c[name] = back.get((target, c[name]), f"?{c[name]}")
        if "member_ids" in c:
            c["member_ids"] = sorted(back.get((Entity.PUPILS, m), m) for m in c["member_ids"])
        have[_key(entity, back.get((entity, rec.id), f"?{rec.id}"), c)] = c
    if entity is Entity.PERIODS:  # the year is no subperiod in О7
        want = {k: v for k, v in want.items() if v["kind"] != "year"}
    if entity in (Entity.TEACHERS, Entity.SUBJECTS):  # only the names in use are visible
        assert have and set(have) <= set(want), entity
        want = {k: want[k] for k in have}
    return want, have


def _changed(report: Any) -> int:
    c = report.counts
    return int(c.total("created") + c.total("updated") + c.total("deleted"))


def test_full_pull_equals_the_school_and_a_second_pull_changes_nothing(oworld: World) -> None:
    first = pull(oworld, "o7")
    assert first.status == "success", (first.error, first.counts.as_dict())
    for entity in O7_ENTITIES:
        want, have = school_vs_store(oworld, entity)
        assert have == want, entity
    taught = {les.teacher_id for les in oworld.school.lessons}
    back = _gen_ids(oworld)
    assert taught <= {back[(Entity.TEACHERS, t)] for t in oworld.records(Entity.TEACHERS)}
    snap = store_snapshot(oworld, "o7", Entity.MARKS.value, O7_ENTITIES)

    again = pull(oworld, "o7")
    assert again.status == "success" and _changed(again) == 0, again.counts.as_dict()
    full = pull(oworld, "o7", full=True)
    assert full.status == "success" and _changed(full) == 0, full.counts.as_dict()
    after = store_snapshot(oworld, "o7", Entity.MARKS.value, O7_ENTITIES)
    assert (after["counts"], after["hashes"], after["changes"]) == (
        snap["counts"],
        snap["hashes"],
        snap["changes"],
    )


def _october_marks(world: World) -> list[Mark]:
    lessons = {les.id: les.date for les in world.school.lessons}
    return sorted(
        (m for m in world.school.marks if lessons[m.lesson_id] >= dt.date(2025, 10, 1)),
        key=lambda m: m.id,
    )


def _gid(world: World, entity: Entity, ext: str) -> str | None:
    return next((g for g, x in world.ext_map("o7", entity).items() if x == ext), None)


def test_a_mark_deleted_in_o7_disappears_after_an_incremental_pull(oworld: World) -> None:
    assert pull(oworld, "o7").status == "success"
    sim = oworld.sim  # type: ignore[attr-defined]
    gone, changed = _october_marks(oworld)[:2]
    gone_gid = _gid(oworld, Entity.MARKS, gone.ext_ids["o7"])
    assert gone_gid is not None
    sim.delete_mark(gone.ext_ids["o7"])
    sim.set_mark(changed.ext_ids["o7"], "2" if str(changed.value) != "2" else "3")

    report = pull(oworld, "o7")
    assert report.status == "success", report.error
    counts = report.counts.as_dict()
    assert counts[Entity.MARKS.value].get("deleted") == 1, counts
    assert counts[Entity.MARKS.value].get("updated") == 1, counts
    assert report.counts.total("created") == 0
    assert report.counts.total("deleted") == report.counts.total("updated") == 1
    assert gone_gid not in oworld.records(Entity.MARKS)
    assert len(oworld.records(Entity.MARKS)) == len(oworld.school.marks) - 1


def _has_marks(sim: Any, class_guid: str, start: dt.date, end: dt.date) -> bool:
    return any(
        sim.data.marks.get(les["lesson_guid"])
        for les in sim.data.lessons_in(class_guid, start, end)
    )


def _mark_in(sim: Any, class_guid: str, start: dt.date, end: dt.date) -> str:
    lessons = sim.data.lessons_in(class_guid, start, end)
    return str(next(g for les in lessons for g in sim.data.marks.get(les["lesson_guid"], {})))


def test_a_window_failing_half_way_deletes_nothing(oworld: World) -> None:
    assert pull(oworld, "o7").status == "success"
    sim = oworld.sim  # type: ignore[attr-defined]
    sep, oct_ = (
        (dt.date(2025, 9, 1), dt.date(2025, 9, 30)),
        (dt.date(2025, 10, 1), dt.date(2025, 10, 31)),
    )
    # windows are read class by class, September then October; the first class is grade 1
    classes = [c["class_id"] for c in sim.data.classes]
    i = next(n for n, c in enumerate(classes) if _has_marks(sim, c, *sep))
    c1, c2 = classes[i], classes[i + 1]
    # a mark disappears in О7 from a window read completely (c1's September), from the window
    # that fails (c1's October) and from one never read (c2's September)
    guids = [_mark_in(sim, c1, *sep), _mark_in(sim, c1, *oct_), _mark_in(sim, c2, *sep)]
    gids = [_gid(oworld, Entity.MARKS, g) for g in guids]
    assert None not in gids
    for g in guids:
        sim.delete_mark(g)

    # every attempt at c1's October fails (retries = 1: two attempts)
    sim.forced["MarkService/GetMarks"] = [None] * (2 * i + 1) + ["html500", "html500"]
    failed = pull(oworld, "o7", entities=frozenset({Entity.MARKS}))
    # the read stopped on a connector error: the run failed and says what it did not read
    assert failed.status == "failed"
    assert failed.error and "not read: marks" in failed.error
    assert failed.unread == ["marks"]
    # every page of this small school's marks is one unit (fewer than chunk_size records), so
    # c1's September, read completely before the failing window, is rolled back with the unit:
    # nothing was deleted, and the run's counts say so
    assert len(oworld.school.marks) < oworld.config.sync.chunk_size
    held = oworld.records(Entity.MARKS)
    assert all(g in held for g in gids)
    assert failed.counts.total("deleted") == 0, failed.counts.as_dict()
    assert len(held) == len(oworld.school.marks)

    # the next run, with the fault gone, reads every window and finds the other deletions
    assert not sim.forced.get("MarkService/GetMarks")
    ok = pull(oworld, "o7", entities=frozenset({Entity.MARKS}))
    assert ok.status == "success", ok.error
    assert ok.counts.total("deleted") == 3
    held = oworld.records(Entity.MARKS)
    assert not {g for g in gids if g in held}
    assert len(held) == len(oworld.school.marks) - 3
