"""A region on loopback for the queue's tests and bench: generated schools, one ES2 simulator
each (served in this process), and a configuration naming them with a schedule and a queue."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fixtures.es2 import Simulator
from fixtures.generator import generate_school
from fixtures.pace import Pace
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread

ENV = {"SG_T_ES2_ID": "schoolgate", "SG_T_ES2_SECRET": "secret"}

SCHOOL = """
[[schools]]
id = "{id}"
name = "Школа {id}"
timezone = "Europe/Moscow"

[schools.systems.es2]
base_url = "{url}"
remote_school = "{remote}"
credentials = {{ client_id = {{ env = "SG_T_ES2_ID" }}, client_secret = {{ env = "SG_T_ES2_SECRET" }} }}
retries = 2
options = {{ year_start = "2025-09-01", year_end = "2026-05-31", today = "2025-10-24" }}
entities = {entities}
"""

MARKS_BOTH = '{ marks = { direction = "both", conflict = "newer-wins" } }'
#: the roster only: light pulls, for tests about scheduling rather than data
ROSTER_ONLY = (
    '{ lessons = { direction = "off" }, marks = { direction = "off" }, '
    'final_marks = { direction = "off" }, attendance = { direction = "off" } }'
)


@dataclass
class World:
    schools: list[SchoolData]
    sims: list[Simulator]
    urls: list[str]
    config: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def write_config(self, store_url: str, extra: str = "", entities: str = MARKS_BOTH) -> Path:
        head = (
            f'[store]\nurl = "{store_url}"\n\n[log]\nformat = "json"\nlevel = "info"\n\n{extra}\n'
        )
        body = "".join(
            SCHOOL.format(id=s.school.id, url=u, remote=sim.school_id, entities=entities)
            for s, sim, u in zip(self.schools, self.sims, self.urls, strict=True)
        )
        self.config.write_text(head + body, encoding="utf-8")
        return self.config

    def start(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        """``schoolgate ARGS --config …`` in a process of its own, its output in ``log``."""
        env = os.environ | ENV
        out = log.open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "schoolgate.cli", *args, "--config", str(self.config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.config.parent,
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)


@contextlib.contextmanager
def world(
    directory: Path, n: int, *, size: str = "tiny", latency_ms: float = 0, seed0: int = 101
) -> Iterator[World]:
    # each school's simulator is an installation of its own, numbering its records alike (the
    # generator's default): identity links are kept per school, so none is taken for another's
    schools = [generate_school(seed0 + i, size, school_id=f"s{i + 1}") for i in range(n)]
    sims = [Simulator(s, pace=Pace(latency_ms=latency_ms) if latency_ms else None) for s in schools]
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(serve_in_thread(sim.app)) for sim in sims]
        w = World(schools, sims, urls, directory / "schoolgate.toml")
        try:
            yield w
        finally:
            w.stop_all()


def wait_for(check: Any, timeout: float, every: float = 0.2) -> Any:
    """Poll ``check()`` until it answers something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {check.__doc__ or check}")
        time.sleep(every)
