"""Crash tests: ``schoolgate sync`` killed with SIGKILL at each step of a pull and of a push, then
run again — the store ends equal to the source, with no duplicate and no lost push (counted on the
simulator, which runs in this process).

The sync runs in a subprocess with ``SCHOOLGATE_CRASHPOINT=name:n`` (see :mod:`sync.crash`); a
point the run never reaches fails the test. Positions are chosen so crashes fall mid-run: for the
tiny school with 100 items a page, an ES2 pull passes 66 pages in 62 units (the roster's five
pages are one unit; then subgroups, 12 lesson pages, 36 mark pages, final marks, attendance).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fixtures.es2 import SimClock
from fixtures.generator import mutate
from fixtures.school import SchoolData
from mapping.model import PULL_ORDER, Entity, Mark
from tests.sync.crash_helpers import (
    CrashWorld,
    asiou_world,
    assert_no_duplicates,
    assert_one_create_per_record,
    assert_store_equals_source,
    es2_world,
    ext_of,
    outbox_statuses,
    pulled_database,
    write_local_marks,
)

SOAK = pytest.mark.soak
#: (crash point, whether every unit is committed when it fires)
PULL_POINTS = [
    pytest.param("pull.mapped:3", False, id="mapped:3"),  # inside the roster unit
    pytest.param("pull.page_applied:5", False, id="page_applied:5", marks=SOAK),
    pytest.param("pull.before_commit:1", False, id="before_commit:1", marks=SOAK),
    pytest.param("pull.after_commit:1", False, id="after_commit:1"),  # the roster alone
    pytest.param("pull.page_applied:12", False, id="page_applied:12"),  # among lesson windows
    pytest.param("pull.before_commit:30", False, id="before_commit:30"),  # among the marks
    pytest.param("pull.after_commit:30", False, id="after_commit:30", marks=SOAK),
    pytest.param("pull.mapped:58", False, id="mapped:58", marks=SOAK),  # final marks
    # every unit committed, the run not finished
    pytest.param("pull.after_commit:62", True, id="after_commit:62"),
]


def _store_total(world: CrashWorld) -> int:
    with world.store.read() as tx:
        return sum(tx.count(e, school_id=world.school.school.id) for e in PULL_ORDER)


@pytest.mark.parametrize(("point", "last"), PULL_POINTS)
def test_a_killed_full_pull_run_again_ends_equal_to_the_source(
    point: str, last: bool, tiny_school: SchoolData, tmp_path: Path
) -> None:
    source = sum(len(tiny_school.records(e)) for e in PULL_ORDER)
    with es2_world(tiny_school, tmp_path, page_size=100) as world:
        world.cli.crash("es2", "pull", point)
        held = _store_total(world)
        assert held == source if last else held < source  # killed mid-run
        if point.startswith("pull.after_commit"):
            assert held > 0  # … and what was committed stayed
        world.cli.ok("es2", "pull")
        assert_store_equals_source(world, "es2")
        assert_no_duplicates(world, "es2")
        assert_one_create_per_record(world)


INCREMENTAL_POINTS = [
    pytest.param("pull.after_commit:3", id="after_commit:3"),
    pytest.param("pull.page_applied:2", id="page_applied:2", marks=SOAK),
    pytest.param("pull.mapped:9", id="mapped:9", marks=SOAK),
]


@pytest.fixture(scope="module")
def es2_pulled(tiny_school: SchoolData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pulled_database(tiny_school, "es2", tmp_path_factory.mktemp("es2_pulled"))


@pytest.fixture(scope="module")
def asiou_pulled(tiny_school: SchoolData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pulled_database(tiny_school, "asiou", tmp_path_factory.mktemp("asiou_pulled"))


@pytest.mark.parametrize("point", INCREMENTAL_POINTS)
def test_a_killed_incremental_pull_run_again_brings_every_change(
    point: str, tiny_school: SchoolData, tmp_path: Path, es2_pulled: Path
) -> None:
    changed, changeset = mutate(tiny_school, 5, changes=60)
    assert sum(len(changeset.ids(e, "create")) for e in PULL_ORDER) > 0
    # the served data dates from before the seed pull's checkpoint, so the read after the
    # changes is truly incremental: only what changed since comes back
    clock = SimClock(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    with es2_world(
        tiny_school, tmp_path, es2_pulled, clock=clock, page_size=10, lesson_recent_days=400
    ) as world:
        world.sim.clock.advance(hours=25)
        world.sim.sync_to(changed)
        world.cli.crash("es2", "pull", point)
        world.cli.ok("es2", "pull")
        after = world.with_school(changed)
        assert_store_equals_source(after, "es2")
        assert_no_duplicates(after, "es2")
        assert_one_create_per_record(after)


# -- push ------------------------------------------------------------------------------------
NEW, EDITED = 4, 3  # seven outbox items, sent by the connector in HTTP batches of two
#: the pusher claims up to the connector's declared batch (500): one claim, one send of marks
ES2_PUSH_POINTS = [
    pytest.param("push.claimed:1", id="claimed:1"),  # claimed (``sending``), nothing sent
    pytest.param("push.sent:1", id="sent:1"),  # the system holds every batch, the outbox not
    pytest.param("push.recorded:1", id="recorded:1"),
    # every result recorded, the last (empty) claim made, the run not finished
    pytest.param("push.claimed:2", id="claimed:2", marks=SOAK),
]


def _es2_marks(world: CrashWorld) -> dict[int, dict[str, Any]]:
    col = world.sim.state.col("marks")
    return {i: it for i, it in col.items.items() if not it.get("deleted")}


@pytest.mark.parametrize("point", ES2_PUSH_POINTS)
def test_a_killed_push_to_es2_run_again_loses_and_doubles_nothing(
    point: str, tiny_school: SchoolData, tmp_path: Path, es2_pulled: Path
) -> None:
    with es2_world(tiny_school, tmp_path, es2_pulled, push_batch_size=2) as world:
        before = len(_es2_marks(world))
        new, edited = write_local_marks(world, NEW, EDITED)
        assert outbox_statuses(world) == Counter(pending=NEW + EDITED)

        world.cli.crash("es2", "push", point)
        world.cli.ok("es2")  # what an operator runs: pull, then push

        assert outbox_statuses(world).keys() <= {"accepted", "duplicate"}
        assert outbox_statuses(world).total() == NEW + EDITED
        held = _es2_marks(world)
        assert len(held) == before + NEW  # no lost push, no second copy
        pupils = ext_of(world, "es2", Entity.PUPILS, [m.pupil_id for m in new])
        lessons = ext_of(world, "es2", Entity.LESSONS, [m.lesson_id for m in new])
        marks_ext = ext_of(world, "es2", Entity.MARKS, [m.id for m in (*new, *edited)])
        for mark in new:
            on_sim = [
                i
                for i, it in held.items()
                if it["pupil_id"] == int(pupils[mark.pupil_id])
                and it["lesson_id"] == int(lessons[mark.lesson_id])
            ]
            assert on_sim == [int(marks_ext[mark.id])], mark.id  # exactly once, and linked
            assert held[on_sim[0]]["value"] == str(mark.value)
        for mark in edited:
            assert held[int(marks_ext[mark.id])]["value"] == str(mark.value), mark.id
        assert_no_duplicates(world, "es2", {Entity.MARKS: NEW})
        assert_one_create_per_record(world)
        local = world.records(Entity.MARKS)
        for mark in (*new, *edited):
            assert isinstance(local[mark.id], Mark)
            assert local[mark.id].value == mark.value  # type: ignore[attr-defined]


# АСИОУ answers a push with a receipt read on the next run: (crash point, pushed once before)
ASIOU_PUSH_POINTS = [
    pytest.param("push.claimed:1", False, id="claimed:1", marks=SOAK),
    pytest.param("push.sent:1", False, id="sent:1"),  # queued there, no ticket recorded here
    pytest.param("push.recorded:1", False, id="recorded:1"),  # tickets kept, receipt not read
    pytest.param("push.receipts_read:1", True, id="receipts_read:1"),  # read, not recorded
    pytest.param("push.polled:1", True, id="polled:1"),
]


def _asiou_marks(world: CrashWorld) -> dict[str, dict[str, str]]:
    return {a["Ид"]: a for a in world.sim.state.records(Entity.MARKS, None)}


@pytest.mark.parametrize(("point", "warm"), ASIOU_PUSH_POINTS)
def test_a_killed_push_to_asiou_run_again_loses_and_doubles_nothing(
    point: str, warm: bool, tiny_school: SchoolData, tmp_path: Path, asiou_pulled: Path
) -> None:
    with asiou_world(tiny_school, tmp_path, asiou_pulled) as world:
        before = len(_asiou_marks(world))
        new, edited = write_local_marks(world, NEW, EDITED)
        if warm:
            world.cli.ok("asiou", "push")
            assert outbox_statuses(world) == Counter(sent=NEW + EDITED)

        world.cli.crash("asiou", "push", point)
        for _ in range(3):  # a receipt is read by the run after the one that sent the package
            world.cli.ok("asiou")
            if outbox_statuses(world).keys() <= {"accepted", "duplicate"}:
                break
        assert outbox_statuses(world).keys() <= {"accepted", "duplicate"}, outbox_statuses(world)
        assert outbox_statuses(world).total() == NEW + EDITED

        held = _asiou_marks(world)
        assert len(held) == before + NEW
        pupils = ext_of(world, "asiou", Entity.PUPILS, [m.pupil_id for m in new])
        lessons = ext_of(world, "asiou", Entity.LESSONS, [m.lesson_id for m in new])
        for mark in new:
            on_sim = [
                a
                for a in held.values()
                if a["Учащийся"] == pupils[mark.pupil_id] and a["Урок"] == lessons[mark.lesson_id]
            ]
            assert len(on_sim) == 1, mark.id
            assert on_sim[0]["Значение"] == str(mark.value)
        edited_ext = ext_of(world, "asiou", Entity.MARKS, [m.id for m in edited])
        for mark in edited:
            assert held[edited_ext[mark.id]]["Значение"] == str(mark.value), mark.id
        assert_no_duplicates(world, "asiou", {Entity.MARKS: NEW})
        assert_one_create_per_record(world)
