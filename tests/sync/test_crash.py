"""Crash tests: ``schoolgate sync`` killed with SIGKILL at each step of a pull and of a push, then
run again — the store ends equal to the source, with no duplicate and no lost push (counted on the
simulator, which runs in this process).

The sync runs in a subprocess with ``SCHOOLGATE_CRASHPOINT=name:n`` (see :mod:`sync.crash`); a
point the run never reaches fails the test. Positions fall mid-run: with 100 items a page and
units of 100 records the tiny school's ES2 pull passes ~66 pages in ~60 units (the roster's five
pages are one unit; then subgroups, lesson windows, marks, final marks, attendance). Early points
are fixed; later ones are fractions of the passes counted by an in-process pull of the same world.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from core.entities import PULL_ORDER, Entity
from fixtures.es2 import SimClock
from fixtures.generator import mutate
from fixtures.school import SchoolData
from mapping.model import Attendance, Mark
from mapping.values import MarkValue
from tests.sync.crash_helpers import (
    CrashWorld,
    Seed,
    asiou_world,
    assert_no_duplicates,
    assert_one_create_per_record,
    assert_store_equals_source,
    es2_world,
    ext_of,
    outbox_statuses,
    pulled_database,
    write_local_absences,
    write_local_marks,
)

pytestmark = pytest.mark.slow  # subprocess runs: a few seconds each
SOAK = pytest.mark.soak
PAGED: dict[str, Any] = {"page_size": 100, "chunk_size": 100}
#: (crash point, its pass: a number, or a fraction of the passes a whole pull makes)
PULL_POINTS = [
    pytest.param("pull.mapped", 3, id="mapped:3"),  # inside the roster unit
    pytest.param("pull.page_applied", 5, id="page_applied:5", marks=SOAK),
    pytest.param("pull.before_commit", 1, id="before_commit:1", marks=SOAK),
    pytest.param("pull.after_commit", 1, id="after_commit:1", marks=SOAK),  # the roster only
    pytest.param("pull.page_applied", 12, id="page_applied:12"),  # among the lesson windows
    pytest.param("pull.before_commit", 0.5, id="before_commit:half"),  # among the marks
    pytest.param("pull.after_commit", 0.5, id="after_commit:half", marks=SOAK),
    pytest.param("pull.mapped", 0.9, id="mapped:0.9", marks=SOAK),
    pytest.param("pull.after_commit", 1.0, id="after_commit:last"),  # run not finished
]


@pytest.fixture(scope="module")
def es2_pulled(tiny_school: SchoolData, tmp_path_factory: pytest.TempPathFactory) -> Seed:
    return pulled_database(tiny_school, "es2", tmp_path_factory.mktemp("es2_pulled"), **PAGED)


@pytest.fixture(scope="module")
def asiou_pulled(tiny_school: SchoolData, tmp_path_factory: pytest.TempPathFactory) -> Seed:
    return pulled_database(tiny_school, "asiou", tmp_path_factory.mktemp("asiou_pulled"))


def _store_total(world: CrashWorld) -> int:
    with world.store.read() as tx:
        return sum(tx.records.count(e, school_id=world.school.school.id) for e in PULL_ORDER)


@pytest.mark.parametrize(("name", "at"), PULL_POINTS)
def test_a_killed_full_pull_run_again_ends_equal_to_the_source(
    name: str, at: float, tiny_school: SchoolData, tmp_path: Path, es2_pulled: Seed
) -> None:
    total = es2_pulled.passes[name]
    nth = at if isinstance(at, int) else max(1, round(at * total))
    assert 1 <= nth <= total, (name, nth, total)
    source = sum(len(tiny_school.records(e)) for e in PULL_ORDER)
    with es2_world(tiny_school, tmp_path, **PAGED) as world:
        world.cli.crash("es2", "pull", f"{name}:{nth}")
        held = _store_total(world)
        if name == "pull.after_commit":
            assert held > 0  # what was committed stayed
        if nth < total or name != "pull.after_commit":
            assert held < source  # killed mid-run
        world.cli.ok("es2", "pull")
        assert_store_equals_source(world, "es2")
        assert_no_duplicates(world, "es2")
        assert_one_create_per_record(world)
        with world.store.read() as tx:
            killed, rerun = sorted(tx.runs.find(limit=10), key=lambda r: r.id)[-2:]
        # the killed run does not stay "running": the next run of the job closes it
        assert killed.status == "failed" and "interrupted" in (killed.error or "")
        assert rerun.status == "success"


INCREMENTAL_POINTS = [
    pytest.param("pull.after_commit:3", id="after_commit:3"),
    pytest.param("pull.page_applied:2", id="page_applied:2", marks=SOAK),
    pytest.param("pull.mapped:9", id="mapped:9", marks=SOAK),
]


@pytest.mark.parametrize("point", INCREMENTAL_POINTS)
def test_a_killed_incremental_pull_run_again_brings_every_change(
    point: str, tiny_school: SchoolData, tmp_path: Path, es2_pulled: Seed
) -> None:
    changed, changeset = mutate(tiny_school, 5, changes=60)
    assert sum(len(changeset.ids(e, "create")) for e in PULL_ORDER) > 0
    # the served data dates from before the seed pull's checkpoint, so the read after the
    # changes is truly incremental: only what changed since comes back
    clock = SimClock(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    with es2_world(
        tiny_school,
        tmp_path,
        es2_pulled.database,
        clock=clock,
        page_size=10,
        lesson_recent_days=400,
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
NEW, EDITED, ABSENT = 4, 3, 2  # marks sent by the connector in HTTP batches of two
#: the pusher claims up to the connector's declared batch (500): one claim, then one send per
#: entity in pull order (marks, then attendance)
ES2_PUSH_POINTS = [
    # claimed (``sending``), nothing sent (by default covered by the edited-again test below)
    pytest.param("push.claimed:1", id="claimed:1", marks=SOAK),
    pytest.param("push.sent:1", id="sent:1"),  # the system holds the marks, the outbox not
    pytest.param("push.recorded:1", id="recorded:1"),  # marks recorded, absences not sent
    pytest.param("push.sent:2", id="sent:2"),  # absences sent, not recorded
    # every result recorded, the last (empty) claim made, the run not finished
    pytest.param("push.claimed:2", id="claimed:2", marks=SOAK),
]


def _es2_items(world: CrashWorld, path: str) -> dict[int, dict[str, Any]]:
    col = world.sim.state.col(path)
    return {i: it for i, it in col.items.items() if not it.get("deleted")}


def assert_es2_holds_absences_once(
    world: CrashWorld, before: int, absences: list[Attendance]
) -> None:
    held = _es2_items(world, "attendance")
    assert len(held) == before + len(absences)
    ids = [a.id for a in absences]
    ext = ext_of(world, "es2", Entity.ATTENDANCE, ids)
    pupils = ext_of(world, "es2", Entity.PUPILS, [a.pupil_id for a in absences])
    lessons = ext_of(world, "es2", Entity.LESSONS, [a.lesson_id for a in absences])
    for absence in absences:
        on_sim = [
            i
            for i, it in held.items()
            if it["pupil_id"] == int(pupils[absence.pupil_id])
            and it["lesson_id"] == int(lessons[absence.lesson_id])
        ]
        assert on_sim == [int(ext[absence.id])], absence.id


def _es2_marks(world: CrashWorld) -> dict[int, dict[str, Any]]:
    return _es2_items(world, "marks")


def assert_es2_holds_each_push_once(
    world: CrashWorld, before: int, new: list[Mark], edited: list[Mark]
) -> None:
    """Every local mark is on the simulator exactly once, linked, with the store's value."""
    statuses = outbox_statuses(world)
    assert statuses.keys() <= {"accepted", "duplicate"}, statuses
    held = _es2_marks(world)
    assert len(held) == before + len(new)  # no lost push, no second copy
    pupils = ext_of(world, "es2", Entity.PUPILS, [m.pupil_id for m in new])
    lessons = ext_of(world, "es2", Entity.LESSONS, [m.lesson_id for m in new])
    marks_ext = ext_of(world, "es2", Entity.MARKS, [m.id for m in (*new, *edited)])
    local = world.records(Entity.MARKS)
    for mark in new:
        on_sim = [
            i
            for i, it in held.items()
            if it["pupil_id"] == int(pupils[mark.pupil_id])
            and it["lesson_id"] == int(lessons[mark.lesson_id])
        ]
        assert on_sim == [int(marks_ext[mark.id])], mark.id  # exactly once, and linked
    for mark in (*new, *edited):
        stored = local[mark.id]
        assert isinstance(stored, Mark)
        assert held[int(marks_ext[mark.id])]["value"] == str(stored.value), mark.id
    assert_one_create_per_record(world)


@pytest.mark.parametrize("point", ES2_PUSH_POINTS)
def test_a_killed_push_to_es2_run_again_loses_and_doubles_nothing(
    point: str, tiny_school: SchoolData, tmp_path: Path, es2_pulled: Seed
) -> None:
    with es2_world(tiny_school, tmp_path, es2_pulled.database, push_batch_size=2) as world:
        before = len(_es2_marks(world))
        before_absent = len(_es2_items(world, "attendance"))
        new, edited = write_local_marks(world, NEW, EDITED)
        absences = write_local_absences(world, ABSENT)
        assert outbox_statuses(world) == Counter(pending=NEW + EDITED + ABSENT)

        world.cli.crash("es2", "push", point)
        world.cli.ok("es2")  # what an operator runs: pull, then push

        # nothing waits; a push the pull found the system holding is settled (removed unsent)
        assert outbox_statuses(world).keys() <= {"accepted", "duplicate"}
        assert outbox_statuses(world).total() <= NEW + EDITED + ABSENT
        assert_es2_holds_each_push_once(world, before, new, edited)
        assert_es2_holds_absences_once(world, before_absent, absences)
        assert_no_duplicates(world, "es2", {Entity.MARKS: NEW, Entity.ATTENDANCE: ABSENT})
        local = world.records(Entity.MARKS)
        for mark in (*new, *edited):
            assert local[mark.id].content() == mark.content(), mark.id  # the journal's edit stands


@pytest.mark.parametrize("point", ["push.claimed:1", "push.sent:1"])
def test_a_mark_edited_again_before_its_killed_push_was_recorded_reaches_es2_once(
    point: str, tiny_school: SchoolData, tmp_path: Path, es2_pulled: Seed
) -> None:
    """Two outbox items of one new record, neither recorded: the second must wait for the id
    the first brings back, or the system gets the record twice."""
    with es2_world(tiny_school, tmp_path, es2_pulled.database) as world:
        before = len(_es2_marks(world))
        new, _ = write_local_marks(world, 2, 0)
        world.cli.crash("es2", "push", point)
        again = [m.model_copy(update={"value": MarkValue.parse("3")}) for m in new]
        world.journal().write(again, actor="учитель")
        assert outbox_statuses(world).total() == 4

        world.cli.ok("es2", "push")  # no pull in between to find what the killed run sent
        assert_es2_holds_each_push_once(world, before, again, [])
        world.cli.ok("es2")
        assert_es2_holds_each_push_once(world, before, again, [])
        assert_no_duplicates(world, "es2", {Entity.MARKS: 2})


# АСИОУ answers a push with a receipt read on the next run: (crash point, pushed once before)
ASIOU_PUSH_POINTS = [
    pytest.param("push.claimed:1", False, id="claimed:1", marks=SOAK),
    pytest.param("push.sent:1", False, id="sent:1"),  # queued there, no ticket recorded here
    pytest.param("push.recorded:1", False, id="recorded:1"),  # tickets kept, receipt not read
    pytest.param("push.receipts_read:1", True, id="receipts_read:1"),  # read, not recorded
    pytest.param("push.polled:1", True, id="polled:1", marks=SOAK),
]


def _asiou_marks(world: CrashWorld) -> dict[str, dict[str, str]]:
    return {a["Ид"]: a for a in world.sim.state.records(Entity.MARKS, None)}


@pytest.mark.parametrize(("point", "warm"), ASIOU_PUSH_POINTS)
def test_a_killed_push_to_asiou_run_again_loses_and_doubles_nothing(
    point: str, warm: bool, tiny_school: SchoolData, tmp_path: Path, asiou_pulled: Seed
) -> None:
    with asiou_world(tiny_school, tmp_path, asiou_pulled.database) as world:
        before = len(_asiou_marks(world))
        new, edited = write_local_marks(world, NEW, EDITED)
        if warm:
            world.cli.ok("asiou", "push")
            assert outbox_statuses(world) == Counter(sent=NEW + EDITED)

        world.cli.crash("asiou", "push", point)
        world.cli.ok("asiou")  # what an operator runs: pull, then push
        for _ in range(2):  # a receipt is read by the run after the one that sent the package
            if outbox_statuses(world).keys() <= {"accepted", "duplicate"}:
                break
            world.cli.ok("asiou", "push")
        assert outbox_statuses(world).keys() <= {"accepted", "duplicate"}, outbox_statuses(world)
        assert outbox_statuses(world).total() <= NEW + EDITED  # settled ones leave the outbox

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


# -- soak: random kills, run after run -------------------------------------------------------
PULL_STEPS = ("pull.mapped", "pull.page_applied", "pull.before_commit", "pull.after_commit")
PUSH_STEPS = ("push.claimed", "push.sent", "push.recorded")
ROUNDS = 6


@SOAK
@pytest.mark.parametrize("seed", range(3))
def test_soak_a_pull_killed_again_and_again_ends_equal_to_the_source(
    seed: int, tiny_school: SchoolData, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    kills = 0
    with es2_world(tiny_school, tmp_path, page_size=50) as world:
        for _ in range(ROUNDS):  # each run resumes what the killed one left and is killed too
            point = f"{rng.choice(PULL_STEPS)}:{rng.randint(1, 12)}"
            done = world.cli.run("es2", "pull", point)
            assert done.returncode in (0, -signal.SIGKILL), done.stderr[-2000:]
            kills += done.returncode == -signal.SIGKILL
        world.cli.ok("es2", "pull")
        assert_store_equals_source(world, "es2")
        assert_no_duplicates(world, "es2")
        assert_one_create_per_record(world)
    assert kills >= 2


@SOAK
@pytest.mark.parametrize("seed", range(2))
def test_soak_journal_edits_and_syncs_killed_at_random_lose_and_double_nothing(
    seed: int, tiny_school: SchoolData, tmp_path: Path, es2_pulled: Seed
) -> None:
    rng = random.Random(seed)
    new: list[Mark] = []
    edited: list[Mark] = []
    with es2_world(tiny_school, tmp_path, es2_pulled.database, push_batch_size=2) as world:
        before = len(_es2_marks(world))
        for n in range(ROUNDS):
            made, changed = write_local_marks(world, 2, 1, prefix=f"r{n}-")
            new += made
            edited += changed
            point = f"{rng.choice(PULL_STEPS + PUSH_STEPS)}:{rng.randint(1, 3)}"
            done = world.cli.run("es2", "both", point)
            assert done.returncode in (0, -signal.SIGKILL), done.stderr[-2000:]
        world.cli.ok("es2")
        assert_es2_holds_each_push_once(world, before, new, edited)
        assert_no_duplicates(world, "es2", {Entity.MARKS: len(new)})
