"""Crash-test worlds: a simulator in the test process (so the test can count what it holds), a
SQLite store in a temporary folder, a configuration TOML whose credentials are environment
references, and the ``schoolgate sync`` CLI run in a subprocess that a crash point may SIGKILL."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.entities import PULL_ORDER, Entity
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread
from mapping.model import Attendance, Lesson, Mark, Record
from mapping.values import AttendanceCode, MarkValue
from schoolgate.config import GatewayConfig, parse_config
from store import Store
from store.identity import IDENTITY
from sync import jobs
from sync.journal import Journal
from sync.pull import PullOptions
from tests.sync.worlds import SECRETS, World, generated_vs_store, system_table

ROOT = Path(__file__).resolve().parents[2]
BOTH = {e.value: {"direction": "both"} for e in (Entity.MARKS, Entity.ATTENDANCE)}
#: fields the generator knows and a system does not carry back
SKIP = frozenset({"closed"})
RUN_TIMEOUT = 120.0


# -- configuration ---------------------------------------------------------------------------
def toml_value(value: Any) -> str:
    """A TOML value (inline tables and arrays: enough for a configuration file)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {type(value).__name__}")


def toml_dumps(doc: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in doc.items())


def config_doc(
    store_url: str, school: SchoolData, systems: dict[str, Any], sync: dict[str, Any]
) -> dict[str, Any]:
    return {
        "store": {"url": store_url},
        "sync": sync,
        "schools": [
            {
                "id": school.school.id,
                "name": "Тестовая школа",
                "timezone": "Europe/Moscow",
                "systems": systems,
            }
        ],
    }


# -- the CLI in a subprocess -----------------------------------------------------------------
def _schoolgate() -> list[str]:
    script = Path(sys.executable).parent / "schoolgate"
    if script.exists():
        return [str(script)]
    return [str(ROOT / ".venv" / "bin" / "schoolgate")]


@dataclass
class SyncCli:
    config_path: Path

    def run(
        self, system: str, direction: str = "both", crashpoint: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "SCHOOLGATE_CRASHPOINT"}
        env.update(SECRETS)
        if crashpoint:
            env["SCHOOLGATE_CRASHPOINT"] = crashpoint
        cmd = [
            *_schoolgate(),
            "--log-format",
            "console",
            "--log-level",
            "warning",
            "sync",
            "--config",
            str(self.config_path),
            "--system",
            system,
            "--direction",
            direction,
        ]
        return subprocess.run(
            cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
        )

    def crash(self, system: str, direction: str, point: str) -> None:
        """Run until the crash point kills the process; a point never reached fails the test."""
        done = self.run(system, direction, point)
        assert done.returncode == -signal.SIGKILL, (
            f"{point} was not reached (exit {done.returncode}): {_tail(done)}"
        )

    def ok(self, system: str, direction: str = "both") -> None:
        done = self.run(system, direction)
        assert done.returncode == 0, _tail(done)


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    return (done.stdout[-1500:] + "\n" + done.stderr[-3000:]).strip()


@dataclass
class CrashWorld(World):
    sim: Any
    cli: SyncCli
    system: str
    doc: dict[str, Any]

    def with_school(self, school: SchoolData) -> CrashWorld:
        return CrashWorld(
            school, self.store, self.config, self.sim, self.cli, self.system, self.doc
        )

    def set_options(self, **options: Any) -> None:
        """Change connector options for the next runs (the configuration file is rewritten)."""
        self.doc["schools"][0]["systems"][self.system]["options"].update(options)
        self.cli.config_path.write_text(toml_dumps(self.doc), encoding="utf-8")

    def database(self) -> Path:
        return Path(self.config.store.url.removeprefix("sqlite:///"))


def _make_world(
    school: SchoolData,
    tmp: Path,
    system: str,
    sim: Any,
    url: str,
    remote: str,
    opts: Any,
    seed_db: Path | None,
    chunk_size: int | None,
) -> CrashWorld:
    db = tmp / "store.db"
    if seed_db is not None:
        copy_database(seed_db, db)
    store_url = f"sqlite:///{db}"
    systems = {system: system_table(system, url, remote, BOTH, opts)}
    doc = config_doc(store_url, school, systems, {"chunk_size": chunk_size} if chunk_size else {})
    path = tmp / "schoolgate.toml"
    path.write_text(toml_dumps(doc), encoding="utf-8")
    config: GatewayConfig = parse_config(doc)
    store = Store.open(store_url)
    store.upgrade()
    return CrashWorld(school, store, config, sim, SyncCli(path), system, doc)


def copy_database(src: Path, dst: Path) -> None:
    """A consistent copy of a SQLite store (through the backup API, WAL included)."""
    with (
        contextlib.closing(sqlite3.connect(src)) as a,
        contextlib.closing(sqlite3.connect(dst)) as b,
    ):
        a.backup(b)


@contextlib.contextmanager
def es2_world(
    school: SchoolData,
    tmp: Path,
    seed_db: Path | None = None,
    *,
    clock: Any = None,
    chunk_size: int | None = None,
    **options: Any,
) -> Iterator[CrashWorld]:
    from fixtures.es2 import Simulator

    sim = Simulator(school, clock=clock)
    with serve_in_thread(sim.app) as url:
        yield _make_world(
            school, tmp, "es2", sim, url, str(sim.school_id), options, seed_db, chunk_size
        )


@contextlib.contextmanager
def asiou_world(
    school: SchoolData, tmp: Path, seed_db: Path | None = None, **options: Any
) -> Iterator[CrashWorld]:
    from fixtures.asiou import Simulator

    sim = Simulator(school, delay=0.0)
    with serve_in_thread(sim.app) as url:
        yield _make_world(school, tmp, "asiou", sim, url, sim.state.code, options, seed_db, None)


@dataclass(frozen=True)
class Seed:
    """A store holding one complete pull (a copy per test saves each test its first pull: the
    simulators serve the same ids for the same school), and how often that pull passed each
    crash point."""

    database: Path
    passes: Counter[str]


def pulled_database(school: SchoolData, system: str, tmp: Path, **options: Any) -> Seed:
    """Pull in this process, counting the crash points passed on the way."""
    import sync.pull as pull_module

    make = es2_world if system == "es2" else asiou_world
    passes: Counter[str] = Counter()
    with make(school, tmp, **options) as world, pytest.MonkeyPatch.context() as mp:
        for key, value in SECRETS.items():
            mp.setenv(key, value)
        mp.setattr(pull_module, "crashpoint", lambda name: passes.update([name]))
        job = jobs.open_job(world.store, world.config.schools[0].setup(system))
        try:
            report = jobs.pull(world.store, world.config.sync, job, PullOptions())
        finally:
            job.close()
        assert report.status == "success", report.error
        world.store.close()
        return Seed(world.database(), passes)


# -- what must hold after a crash and a re-run -----------------------------------------------
def assert_store_equals_source(world: World, system: str) -> None:
    for entity in PULL_ORDER:
        gen, stored = generated_vs_store(world, system, entity, SKIP)
        assert stored.keys() == gen.keys(), (entity, len(stored), len(gen))
        assert stored == gen, entity


def assert_no_duplicates(
    world: World, system: str, extra: Mapping[Entity, int] | None = None
) -> None:
    """One gateway id per external id and one external id per gateway id; as many records of
    each entity as the source holds (plus ``extra`` made locally)."""
    sid = world.school.school.id
    with world.store.read() as tx:
        c = IDENTITY.c
        rows = tx.conn.execute(
            select(c.entity, c.external_id, c.gateway_id).where(c.system == system)
        ).all()
        counts = {e: tx.records.count(e, school_id=sid) for e in PULL_ORDER}
    by_entity: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for entity, ext, gid in rows:
        by_entity[entity].append((ext, gid))
    for entity in PULL_ORDER:
        pairs = by_entity.get(entity.value, [])
        gids = Counter(g for _, g in pairs)
        twice = [g for g, n in gids.items() if n > 1]
        assert not twice, f"{entity}: {len(twice)} records linked to several external ids"
        assert len({e for e, _ in pairs}) == len(pairs), entity
        want = len(world.school.records(entity)) + (extra or {}).get(entity, 0)
        assert counts[entity] == want, (entity, counts[entity], want)


def assert_one_create_per_record(world: World) -> None:
    """The change log holds exactly one ``create`` per record: a replay added no positions."""
    with world.store.read() as tx:
        changes = tx.changes.read(0, limit=10_000_000)
        sid = world.school.school.id
        live = {(e.value, r.id) for e in PULL_ORDER for r in tx.records.iter(e, sid)}
    creates = Counter((ch.entity, ch.record_id) for ch in changes if ch.op == "create")
    again = [k for k, n in creates.items() if n > 1]
    assert not again, f"{len(again)} records created twice in the change log"
    assert live <= set(creates), "a record without its create in the change log"
    positions = [ch.position for ch in changes]
    assert len(positions) == len(set(positions))


# -- local journal edits ---------------------------------------------------------------------
def write_local_marks(
    world: World, new: int, changed: int, prefix: str = "local-"
) -> tuple[list[Mark], list[Mark]]:
    """Through :class:`Journal`: ``new`` marks on (pupil, lesson) pairs that have none and
    ``changed`` marks with another value; one write per record, skipping what a rule refuses
    (a closed period, grade 1) — the journal refuses those and stores nothing of them."""
    journal = world.journal()
    marks = sorted(
        (m for m in world.records(Entity.MARKS).values() if isinstance(m, Mark)),
        key=lambda m: m.id,
    )
    lessons = {k: v for k, v in world.records(Entity.LESSONS).items() if isinstance(v, Lesson)}
    taken = {(m.pupil_id, m.lesson_id) for m in marks}
    made: list[Mark] = []
    pupils: set[str] = set()
    for template in marks:
        if len(made) == new:
            break
        if template.pupil_id in pupils:
            continue
        home = lessons[template.lesson_id]
        for lesson in sorted(lessons.values(), key=lambda x: (x.date, x.id), reverse=True):
            if lesson.class_id != home.class_id or lesson.subgroup_id is not None:
                continue
            if (template.pupil_id, lesson.id) in taken:
                continue
            mark = template.model_copy(
                update={
                    "id": f"{prefix}{len(made) + 1}",
                    "lesson_id": lesson.id,
                    "value": MarkValue.parse("5"),
                    "modified_at": None,
                    "ext_ids": {},
                }
            )
            if _written(journal, mark):
                made.append(mark)
                pupils.add(template.pupil_id)
                taken.add((template.pupil_id, lesson.id))
            break
    edited: list[Mark] = []
    for mark in reversed(marks):
        if len(edited) == changed:
            break
        if str(mark.value) not in ("4", "5"):
            continue
        other = mark.model_copy(
            update={"value": MarkValue.parse("3" if str(mark.value) == "5" else "2")}
        )
        if _written(journal, other):
            edited.append(other)
    assert (len(made), len(edited)) == (new, changed), "not enough marks to edit"
    return made, edited


def write_local_absences(world: World, count: int, prefix: str = "absent-") -> list[Attendance]:
    """Through :class:`Journal`: ``count`` absences on (pupil, lesson) pairs that have none."""
    journal = world.journal()
    taken = {
        (a.pupil_id, a.lesson_id)
        for a in world.records(Entity.ATTENDANCE).values()
        if isinstance(a, Attendance)
    }
    made: list[Attendance] = []
    for mark in sorted(world.records(Entity.MARKS).values(), key=lambda m: m.id):
        if len(made) == count:
            break
        if not isinstance(mark, Mark) or (mark.pupil_id, mark.lesson_id) in taken:
            continue
        absence = Attendance(
            id=f"{prefix}{len(made) + 1}",
            school_id=mark.school_id,
            pupil_id=mark.pupil_id,
            lesson_id=mark.lesson_id,
            code=AttendanceCode.ILL,
        )
        if _written(journal, absence):
            made.append(absence)
            taken.add((mark.pupil_id, mark.lesson_id))
    assert len(made) == count, "not enough lessons for absences"
    return made


def _written(journal: Journal, record: Record) -> bool:
    return journal.write([record], actor="учитель").ok


def outbox_statuses(world: World) -> Counter[str]:
    with world.store.read() as tx:
        return Counter(o.status for o in tx.outbox.find(status=None, limit=1_000_000))


def ext_of(world: World, system: str, entity: Entity, gids: Sequence[str]) -> dict[str, str]:
    with world.store.read() as tx:
        return tx.identity.ext_of(system, entity, gids)
