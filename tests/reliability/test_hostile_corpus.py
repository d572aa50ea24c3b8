"""Hostile and broken input: every case of ``corpus/`` (made by ``make_corpus.py``, kept as files)
served in place of one answer of the simulator during an incremental pull of the tiny school, over
real HTTP on loopback. Whatever the case, the pull returns (no exception escapes, no hang: each
run is bounded in time and the answers in size) and:

- a record-level case: the run ends ``success`` or ``partial``; the valid neighbour is applied with
  its value; each hostile record is kept (linked in the identity map) or refused — or set waiting
  for a record it refers to — with a finding that names it (``<system>:<id>``), its field or rule
  and a reason;
- a whole-body case the contract refuses (cut, nested, huge, mis-encoded, an entity or an
  external DTD to resolve): the run fails with one bounded line naming the system, and nothing of
  that answer is applied;
- a whole-body case the contract may read (a BOM, UTF-16 declared, cp1251 named): either read in
  full (its neighbour applied) or refused as above — never half-applied.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.entities import Entity
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread
from mapping.model import Mark, Pupil
from store import Store
from sync import jobs
from sync.pull import PullOptions
from sync.runs import RunReport
from tests.reliability.make_corpus import HERE, MAX_BODY_MB
from tests.reliability.worlds import Canned, Override, faulty_sim
from tests.sync.crash_helpers import copy_database
from tests.sync.worlds import O7_OPTIONS, World, make_config, system_table

CASES: list[dict[str, Any]] = json.loads((HERE / "cases.json").read_text("utf-8"))
#: a pull of the tiny school's changes takes well under a second; a hang is cut off here
BOUND_S = 60.0


@dataclass
class Wire:
    system: str
    school: SchoolData
    override: Override
    url: str
    remote: str
    seed: Path
    sim: Any


def _config(wire: Wire, db: Path) -> World:
    options = {**O7_OPTIONS} if wire.system == "o7" else {}
    table = system_table(wire.system, wire.url, wire.remote, {}, options or None)
    table.update(retries=2, max_body_mb=MAX_BODY_MB, request_deadline=30)
    config = make_config(f"sqlite:///{db}", wire.school, {wire.system: table})
    return World(wire.school, Store.open(config.store.url), config)


def _pull(world: World, system: str) -> RunReport:
    job = jobs.open_job(world.store, world.school_config.setup(system))
    try:
        return jobs.pull(world.store, world.config.sync, job, PullOptions())
    finally:
        job.close()


@pytest.fixture(scope="module")
def wires(
    tiny_school: SchoolData, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Wire]]:
    """One simulator per system behind an :class:`Override`, and a store holding its complete
    pull (copied for each case)."""
    from tests.sync.worlds import SECRETS

    mp = pytest.MonkeyPatch()
    for k, v in SECRETS.items():
        mp.setenv(k, v)
    out: dict[str, Wire] = {}
    stack: list[Any] = []
    try:
        for system in ("es2", "asiou", "o7"):
            sim, app, remote = faulty_sim(system, tiny_school, 0.0, 0)
            override = Override(app)
            server = serve_in_thread(override)
            url = server.__enter__()
            stack.append(server)
            seed = tmp_path_factory.mktemp(f"corpus_{system}") / "seed.db"
            wire = Wire(system, tiny_school, override, url, remote, seed, sim)
            world = _config(wire, seed)
            world.store.upgrade()
            report = _pull(world, system)
            world.store.close()
            assert report.status == "success", report.error
            if system == "es2":
                sim.clock.advance(hours=1)  # the cases come as changes after the seed's pull
            out[system] = wire
        yield out
    finally:
        for server in reversed(stack):
            server.__exit__(None, None, None)
        mp.undo()


def _body(case: dict[str, Any]) -> bytes:
    raw = (HERE / case["wire"] / case["file"]).read_bytes()
    if case.get("merge"):
        window = json.loads((HERE / case["wire"] / case["merge"]).read_text("utf-8"))
        own = json.loads(raw)
        raw = json.dumps({"marks": [*window["marks"], *own["marks"]]}).encode()
    return raw


def _bounded_pull(world: World, system: str) -> tuple[RunReport, float]:
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(_pull(world, system))
        except BaseException as exc:
            result.append(exc)

    t0 = time.perf_counter()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(BOUND_S)
    elapsed = time.perf_counter() - t0
    assert not worker.is_alive(), f"the pull did not end within {BOUND_S} s"
    (outcome,) = result
    if isinstance(outcome, BaseException):
        raise AssertionError(f"the pull crashed: {type(outcome).__name__}") from outcome
    return outcome, elapsed


def _linked(world: World, system: str, entity: str, ext: str) -> Any:
    with world.store.read() as tx:
        gid = tx.identity.lookup(world.school.school.id, system, Entity(entity), [ext]).get(ext)
        return None if gid is None else tx.records.get(Entity(entity), [gid]).get(gid)


def _value(record: Any, name: str) -> str:
    if isinstance(record, Mark) and name == "value":
        return str(record.value)
    if isinstance(record, Pupil):
        return str(getattr(record, name))
    return str(getattr(record, name))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_a_hostile_answer_is_refused_or_kept_with_a_reason_and_its_neighbours_applied(
    case: dict[str, Any], wires: dict[str, Wire], tmp_path: Path
) -> None:
    wire = wires[case["wire"]]
    db = tmp_path / "store.db"
    copy_database(wire.seed, db)
    world = _config(wire, db)
    key = (case["method"], case["path"])
    headers = {"Content-Type": case["content_type"]}
    when = case["when"].encode() if case.get("when") else None
    wire.override.rules[key] = Canned(_body(case), 200, headers, when)
    wire.override.hits.clear()
    try:
        report, elapsed = _bounded_pull(world, wire.system)
    finally:
        wire.override.rules.pop(key, None)
    try:
        assert wire.override.hits[key] >= 1, "the case was never served"
        assert elapsed < BOUND_S
        _judge(case, world, report)
    finally:
        world.store.close()


def _judge(case: dict[str, Any], world: World, report: RunReport) -> None:
    system = case["wire"]
    entity, ext, field, value = case["neighbour"]
    neighbour = _linked(world, system, entity, ext)
    whole = case["whole"]
    error = report.error or ""
    if whole == "refuse" or (whole == "either" and report.status == "failed"):
        assert report.status == "failed", (report.status, report.counts.as_dict())
        assert error.startswith(f"[{system}]") and len(error) < 2000, error[:300]
        assert neighbour is None, "a refused answer was applied in part"
        return
    assert report.status in ("success", "partial"), error[:500]
    assert neighbour is not None, "the valid neighbour was not applied"
    assert _value(neighbour, field) == value
    if whole != "records":
        return
    with world.store.read() as tx:
        findings = tx.conflicts.find(status=None, limit=100_000)
    named = {f.record_id: f for f in findings}
    for bad in case["hostile"]:
        kept = _linked(world, system, entity, bad)
        if kept is not None:
            continue
        finding = named.get(f"{system}:{bad}")
        assert finding is not None, f"{bad}: neither kept nor refused with a reason"
        # refused, or waiting for a record it refers to (applied when that one arrives)
        assert finding.status in ("rejected", "waiting"), finding
        assert finding.detail and (finding.field or finding.kind), finding
    if not case["hostile"]:  # records without a usable id: refused, and counted so
        assert report.counts.total("rejected") >= 1 or findings, report.counts.as_dict()
