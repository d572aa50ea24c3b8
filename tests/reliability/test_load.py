"""Load: ``schoolgate serve`` (uvicorn, a real process) over a PostgreSQL store, 50 concurrent
consumers on loopback reading the change feed and snapshots, while a sync writes into the same
store (ES2 pulls of a school that keeps changing, and local journal writes). Zero errors; the
p99 latency printed. Five seconds in the normal run, sixty under ``make soak``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import issue
from core.entities import Entity
from fixtures.generator import mutate
from fixtures.school import SchoolData
from fixtures.serve import free_port
from mapping.model import Mark
from mapping.values import MarkValue
from schoolgate.config import parse_config
from store import Store
from sync import jobs
from sync.pull import PullOptions
from tests.reliability.load import LoadResult
from tests.sync.crash_helpers import BOTH, ROOT, config_doc, toml_dumps
from tests.sync.worlds import SECRETS, World, es2_server, system_table

CLIENTS = 50


@dataclass
class Writer:
    """A sync writing while the API is read: pulls of a changing school and journal writes."""

    world: World
    sim: Any
    stop: threading.Event = field(default_factory=threading.Event)
    pulls: list[str] = field(default_factory=list)
    written: int = 0
    error: BaseException | None = None

    def run(self) -> None:
        try:
            school = self.world.school
            round_ = 0
            while not self.stop.is_set():
                round_ += 1
                school, _ = mutate(school, 100 + round_, changes=40)
                self.sim.clock.advance(hours=1)
                self.sim.sync_to(school)
                self.pulls.append(self._pull())
                self._journal(round_)
        except BaseException as exc:
            self.error = exc

    def _pull(self) -> str:
        job = jobs.open_job(self.world.store, self.world.school_config.setup("es2"))
        try:
            return jobs.pull(self.world.store, self.world.config.sync, job, PullOptions()).status
        finally:
            job.close()

    def _journal(self, round_: int) -> None:
        with self.world.store.read() as tx:
            marks = [
                m
                for m in tx.records.iter(Entity.MARKS, self.world.school.school.id)
                if isinstance(m, Mark) and str(m.value) in ("4", "5")
            ][round_ * 7 % 300 :][:20]
        for mark in marks:
            other = mark.model_copy(update={"value": MarkValue.parse("3")})
            if self.world.journal().write([other], actor="учитель").ok:
                self.written += 1


@pytest.fixture
def served_api(
    tiny_school: SchoolData, pg_url: str, tmp_path: Path, secrets: None
) -> Iterator[tuple[str, list[str], Writer]]:
    with es2_server(tiny_school) as (sim, es2_url):
        systems = {"es2": system_table("es2", es2_url, str(sim.school_id), BOTH)}
        doc = config_doc(pg_url, tiny_school, systems, {})
        cfg = tmp_path / "schoolgate.toml"
        cfg.write_text(toml_dumps(doc), encoding="utf-8")
        store = Store.open(pg_url)
        store.upgrade()
        world = World(tiny_school, store, parse_config(doc))
        writer = Writer(world, sim)
        assert writer._pull() == "success"  # the year, before the load
        school = tiny_school.school.id
        secrets_ = [
            issue(store, name=f"portal{i}", schools=[school], scopes=["feed", "snapshot"],
                  rate=100_000, burst=100_000)[1]
            for i in range(10)
        ]  # fmt: skip
        port = free_port()
        env = {**os.environ, **SECRETS}
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("schoolgate")), "--log-level", "warning",
             "serve", "--config", str(cfg), "--port", str(port), "--no-access-log",
             "--threads", "4"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(proc, url)
            yield url, secrets_, writer
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
            store.close()


def _wait_healthy(proc: subprocess.Popen[bytes], url: str) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"the server stopped: {err[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not start")


def _under_load(
    served_api: tuple[str, list[str], Writer], school: str, seconds: float
) -> tuple[Any, Writer]:
    url, secrets_, writer = served_api
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        result = _load_process(url, secrets_, school, seconds)
    finally:
        writer.stop.set()
        thread.join(120)
    assert not thread.is_alive()
    assert writer.error is None, repr(writer.error)
    return result, writer


def _load_process(url: str, secrets_: list[str], school: str, seconds: float) -> LoadResult:
    """The consumers in a process of their own: the writer's Python work in this one would
    otherwise starve their event loop and the figures would measure that."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.load", url, school, str(CLIENTS),
         str(seconds), *secrets_],
        cwd=ROOT, capture_output=True, text=True, timeout=seconds + 300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return LoadResult(data["latencies"], Counter(data["errors"]), data["seconds"], data["events"])


def _check(result: Any, writer: Writer, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(
            f"\nfeed API load: {result.line(CLIENTS)}; meanwhile {len(writer.pulls)} pulls "
            f"({', '.join(sorted(set(writer.pulls)))}) and {writer.written} journal writes"
        )
    assert result.errors.total() == 0, dict(result.errors)
    assert len(result.latencies) >= CLIENTS and result.events > 0
    assert writer.pulls and set(writer.pulls) <= {"success", "partial"}
    assert writer.written > 0


@pytest.mark.postgres
def test_fifty_consumers_for_five_seconds_with_a_sync_writing(
    served_api: tuple[str, list[str], Writer],
    tiny_school: SchoolData,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, writer = _under_load(served_api, tiny_school.school.id, 5.0)
    _check(result, writer, capsys)


@pytest.mark.soak
@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_soak_fifty_consumers_for_sixty_seconds_with_a_sync_writing(
    served_api: tuple[str, list[str], Writer],
    tiny_school: SchoolData,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, writer = _under_load(served_api, tiny_school.school.id, 60.0)
    _check(result, writer, capsys)
