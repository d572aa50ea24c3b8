"""Pulls of dirty schools over real HTTP on loopback: a bad value never takes good data with it.

Every expectation comes from the generator's manifest (which records it dirtied, and how), never
from what the gateway did.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.entities import Entity
from fixtures.es2 import Faults
from fixtures.generator import Dirt, generate_school
from fixtures.school import SchoolData
from mapping.model import Lesson, Mark, Pupil
from store import ConflictFilter, Paging, QueueFilter
from sync.runs import RunReport
from tests.sync.conftest import BOTH, pull
from tests.sync.worlds import (
    SECRETS,
    World,
    es2_server,
    o7_server,
    open_world,
    system_table,
)

DIRT = Dirt(
    bad_snils=0.03,
    bad_left_date=0.5,
    long_topic=0.01,
    na_marks=0.002,
    withheld_pupils=0.02,
    latin_letters=0.03,
)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


@pytest.fixture(scope="module")
def dirty() -> SchoolData:
    return generate_school(11, "tiny", dirt=DIRT)


def _es2_world(school: SchoolData, url: str, sim: Any, store_url: str) -> World:
    w = open_world(store_url, school, {"es2": system_table("es2", url, str(sim.school_id), BOTH)})
    w.sim = sim  # type: ignore[attr-defined]
    return w


@pytest.fixture
def eworld(dirty: SchoolData, tmp_path: Path, secrets: None) -> Iterator[World]:
    with es2_server(dirty) as (sim, url):
        yield _es2_world(dirty, url, sim, f"sqlite:///{tmp_path}/s.db")


def _by_ext(world: World, system: str, entity: Entity) -> dict[str, Any]:
    """The stored records of ``entity`` by their generator id (through the system's ids)."""
    ext_to_gen = {r.ext_ids[system]: r.id for r in world.school.records(entity)}
    gid_to_ext = world.ext_map(system, entity)
    return {ext_to_gen[gid_to_ext[g]]: r for g, r in world.records(entity).items()}


def _findings(world: World, **where: Any) -> list[Any]:
    with world.store.read() as tx:
        return tx.queries.conflicts(ConflictFilter(**where), Paging(100_000)).items


def test_bad_optional_fields_cost_neither_the_record_nor_what_refers_to_it(eworld: World) -> None:
    m = eworld.school.manifest
    bad_snils = m.ids("bad_snils", system="es2")
    bad_left = m.ids("bad_left_date", system="es2")
    long_topic = m.ids("long_topic", system="es2")
    withheld = m.withheld()
    assert bad_snils and bad_left and long_topic  # the school is dirty as asked

    report = pull(eworld)
    assert report.status == "partial", report.error  # finished; some records wait

    pupils = _by_ext(eworld, "es2", Entity.PUPILS)
    expected = {p.id for p in eworld.school.pupils} - set(withheld)
    assert set(pupils) == expected  # every pupil the roster shows is kept
    for pid in bad_snils:
        assert isinstance(pupils[pid], Pupil) and pupils[pid].snils is None
    for pid in bad_left:
        assert pupils[pid].left_date is None and pupils[pid].status == "left"
    lessons = _by_ext(eworld, "es2", Entity.LESSONS)
    for lid in long_topic:
        assert isinstance(lessons[lid], Lesson) and lessons[lid].topic is None

    # every mark of the pupils with a bad СНИЛС is there
    marks = _by_ext(eworld, "es2", Entity.MARKS)
    theirs = {mk.id for mk in eworld.school.marks if mk.pupil_id in set(bad_snils)}
    assert theirs and theirs <= set(marks)

    # each dropped field is one finding naming the record and the field; no СНИЛС anywhere
    noted = _findings(eworld, kinds=("invalid_field",))
    gid_of = {gen: r.id for gen, r in pupils.items()}
    snils_rows = [f for f in noted if f.field == "snils"]
    assert sorted(f.record_id for f in snils_rows) == sorted(gid_of[p] for p in bad_snils)
    shown = eworld.school.manifest.shown("es2")
    for f in snils_rows:
        assert f.incoming is None and "checksum" in (f.detail or "")
    for pid in bad_snils:
        digits = "".join(ch for ch in shown[pid]["snils"] if ch.isdigit())
        assert all(digits not in repr(f) for f in noted)
    assert {f.field for f in noted} >= {"snils", "left_date", "topic"}


def test_records_of_a_pupil_not_yet_in_the_roster_wait_and_arrive_with_the_pupil(
    eworld: World,
) -> None:
    m = eworld.school.manifest
    withheld = set(m.withheld())
    waiting_marks = {mk.id for mk in eworld.school.marks if mk.pupil_id in withheld}
    waiting_att = {
        (a.pupil_id, a.lesson_id) for a in eworld.school.attendance if a.pupil_id in withheld
    }
    assert withheld and waiting_marks

    first = pull(eworld)
    counts = first.counts.as_dict()
    assert counts["marks"]["waiting"] == len(waiting_marks)
    assert counts.get("attendance", {}).get("waiting", 0) == len(waiting_att)
    assert first.status == "partial"
    waiting = _findings(eworld, statuses=("waiting",))
    assert len([w for w in waiting if w.entity == "marks"]) == len(waiting_marks)
    assert all(w.kind == "waiting_reference" and w.field == "pupil_id" for w in waiting)

    # read again before the pupil arrives: still waiting, not twice on the queue
    again = pull(eworld)
    assert len(_findings(eworld, statuses=("waiting",))) == len(waiting)
    assert again.counts.total("created") == 0

    eworld.sim.release_withheld()  # type: ignore[attr-defined]
    arrived = pull(eworld)
    assert _findings(eworld, statuses=("waiting",)) == []
    marks = _by_ext(eworld, "es2", Entity.MARKS)
    assert waiting_marks <= set(marks)
    assert arrived.counts.total("waiting") == 0
    settled = _findings(eworld, statuses=("resolved",), kinds=("waiting_reference",))
    assert len(settled) == len(waiting) and {s.resolution for s in settled} == {"arrived"}


def test_na_as_a_current_mark_is_stored_and_noted(eworld: World) -> None:
    na = eworld.school.manifest.ids("na_marks", system="es2")
    assert na
    pull(eworld)
    marks = _by_ext(eworld, "es2", Entity.MARKS)
    for mid in na:
        assert isinstance(marks[mid], Mark) and str(marks[mid].value) == "н/а"
    noted = _findings(eworld, kinds=("unusual_mark",))
    assert sorted(f.record_id for f in noted) == sorted(marks[mid].id for mid in na)


def test_latin_letters_in_names_are_corrected_and_flagged(eworld: World) -> None:
    latin = eworld.school.manifest.select("latin_letters")
    es2 = [e for e in latin if e.system == "es2" and e.entity is Entity.PUPILS]
    if not es2:
        pytest.skip("the seeded school put no Latin letters on ES2's pupils")
    pull(eworld)
    pupils = _by_ext(eworld, "es2", Entity.PUPILS)
    flagged = {f.record_id for f in _findings(eworld, kinds=("lookalike_letters",))}
    for e in es2:
        stored = pupils[e.record_id]
        assert getattr(stored, e.field) == e.truth  # stored as the other systems spell it
        assert stored.id in flagged


def test_duplicates_in_one_read_collapse_and_never_end_a_pull(
    tmp_path: Path, secrets: None
) -> None:
    school = generate_school(4, "tiny")
    with es2_server(school, faults=Faults(duplicate=0.5, seed=3)) as (sim, url):
        world = _es2_world(school, url, sim, f"sqlite:///{tmp_path}/d.db")
        report = pull(world)
        assert report.status == "success", report.error
        assert report.counts.total("duplicates") > 0
        assert report.counts.total("rejected") == 0
        assert len(world.records(Entity.MARKS)) == len(school.marks)
        assert len(world.records(Entity.ATTENDANCE)) == len(school.attendance)


def test_o7_absences_read_twice_are_one_record(tmp_path: Path, secrets: None) -> None:
    from tests.sync.test_pull_o7 import o7_table

    school = generate_school(4, "tiny")
    with o7_server(school, duplicate_rate=0.5) as (sim, url):
        world = open_world(f"sqlite:///{tmp_path}/o.db", school, {"o7": o7_table(url, sim)})
        report = pull(world, "o7")
        assert sim.duplicated, "the simulator was asked for duplicates"
        assert report.status == "success", report.error
        stored = world.records(Entity.ATTENDANCE)
        keys = [(a.pupil_id, a.lesson_id) for a in stored.values()]  # type: ignore[attr-defined]
        assert len(keys) == len(set(keys)) == len(school.attendance)


def _teacher_world(school: SchoolData, tmp_path: Path) -> Iterator[tuple[World, Any, Any]]:
    from tests.sync.test_pull_o7 import o7_table

    with es2_server(school) as (esim, eurl), o7_server(school) as (osim, ourl):
        world = open_world(
            f"sqlite:///{tmp_path}/t.db",
            school,
            {
                "es2": system_table("es2", eurl, str(esim.school_id), BOTH),
                "o7": o7_table(ourl, osim),
            },
        )
        yield world, esim, osim


def test_teachers_that_cannot_be_told_apart_go_to_review_and_their_lessons_stay(
    tmp_path: Path, secrets: None
) -> None:
    school = generate_school(6, "tiny", dirt=Dirt(namesake_teachers=0.2))
    pairs = school.manifest.select("namesake_teachers")
    assert pairs
    for world, _, _ in _teacher_world(school, tmp_path):
        assert pull(world, "es2").status == "success"
        report: RunReport = pull(world, "o7")
        with world.store.read() as tx:
            reviews = tx.queries.reviews(QueueFilter(statuses=("open",)), Paging(100)).items
        names = {frozenset({e.record_id, *e.related}) for e in pairs}
        # ES2 gives them ids: kept apart, and a person asked to confirm, once per pair
        kept = [r for r in reviews if r.system == "es2" and r.entity == "teachers"]
        assert len(kept) == len(names) and all("kept apart" in r.reason for r in kept)
        # О7 names them only: each shared name is one question, both teachers as candidates
        teacher_reviews = [r for r in reviews if r.system == "o7" and r.entity == "teachers"]
        assert len(teacher_reviews) == len(names)
        assert all(len(r.candidate_ids) == 2 for r in teacher_reviews)
        assert report.counts.total("review") >= len(teacher_reviews)
        # their lessons are all there, each teacher left empty where О7 could not tell
        assert len(world.records(Entity.LESSONS)) == len(school.lessons)


def test_twins_are_kept_apart_and_a_person_is_asked_to_confirm(
    tmp_path: Path, secrets: None
) -> None:
    school = generate_school(8, "tiny", dirt=Dirt(twins=0.03))
    twins = school.manifest.select("twins")
    assert twins
    with es2_server(school) as (sim, url):
        world = _es2_world(school, url, sim, f"sqlite:///{tmp_path}/w.db")
        assert pull(world).status == "success"
        pupils = _by_ext(world, "es2", Entity.PUPILS)
        for t in twins:  # both twins are pupils of their own
            [other] = t.related
            assert t.record_id in pupils and other in pupils
            assert pupils[t.record_id].id != pupils[other].id
        with world.store.read() as tx:
            reviews = tx.queries.reviews(QueueFilter(statuses=("open",)), Paging(100)).items
        pairs = {frozenset({t.record_id, *t.related}) for t in twins}
        assert len(reviews) == len(pairs)  # one question per pair
        assert all("kept apart" in r.reason for r in reviews)


@pytest.mark.postgres
def test_a_poison_record_is_quarantined_and_the_next_records_go_through(
    pg_url: str, secrets: None
) -> None:
    """PostgreSQL refuses a work type longer than its column; the mark is set aside with the
    kind of failure, its page's other marks go in."""
    school = generate_school(5, "tiny")
    with es2_server(school) as (sim, url):
        world = _es2_world(school, url, sim, pg_url)
        victim = school.marks[7]
        ext = int(victim.ext_ids["es2"])
        item = dict(sim.state.col("marks").items[ext])
        sim.state.upsert("marks", {**item, "work_type": {"code": None, "name": "Р" * 250}})
        report = pull(world)
        assert report.status == "partial"
        marks = world.records(Entity.MARKS)
        assert len(marks) == len(school.marks) - 1
        [q] = _findings(world, kinds=("quarantined",))
        assert q.record_id == f"es2:{ext}" and "DataRejected" in (q.detail or "")
