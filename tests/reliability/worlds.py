"""Three simulators of one generated school behind a counting wrapper, and a store synced from
them: the world of the fault, secrets and moving-source cases."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from core.entities import Entity
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread
from reports.reconcile import Request, reconcile
from sync import jobs
from sync.pull import PullOptions
from sync.runs import RunReport
from tests.sync.worlds import ASIOU_CODE, O7_OPTIONS, World, open_world, system_table

SYSTEMS = ("es2", "asiou", "o7")
#: attempts per request: with faults at 20 % four in a row fail once in 625 requests
RETRIES = 5


@dataclass
class Counted:
    """Requests a simulator answered, by status (``reset``: the connection dropped)."""

    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.statuses.total()

    @property
    def failed(self) -> int:
        return sum(n for s, n in self.statuses.items() if not s.startswith("2"))


class CountingApp:
    """An ASGI wrapper that counts each answer's status (plain ASGI: the body passes as is)."""

    def __init__(self, app: Any, counted: Counted) -> None:
        self.app = app
        self.counted = counted

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = ["reset"]

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.counted.statuses[status[0]] += 1


@dataclass
class Served:
    """One system of the school: its simulator, what it answered, and a store synced from it."""

    system: str
    world: World
    sim: Any
    counted: Counted


def faulty_sim(
    system: str, school: SchoolData, rate: float, seed: int, secret: str = "secret"
) -> tuple[Any, Any, str]:
    """The simulator of ``system`` with every contract fault at ``rate``: (sim, ASGI app, its
    school's id in that system). ``secret`` is its client secret or password (the connector
    reads it from ``SECRETS``' variable of that system, set by the caller)."""
    if system == "es2":
        from fixtures.es2 import Faults, SimClock, Simulator

        last = max(r.modified_at for r in school.all_records() if r.modified_at is not None)
        faults = Faults.uniform(rate, seed=seed, retry_after=0.05)
        sim = Simulator(
            school,
            faults=faults,
            clock=SimClock(start=last + dt.timedelta(hours=12)),
            credentials=("schoolgate", secret),
        )
        return sim, sim.app, str(sim.school_id)
    if system == "asiou":
        from fixtures.asiou import Faults as AFaults
        from fixtures.asiou import Simulator as ASimulator

        faults = AFaults.uniform(rate, seed=seed)
        a_sim = ASimulator(school, faults=faults, delay=0.0, password=secret)
        return a_sim, a_sim.app, ASIOU_CODE
    from fixtures.o7 import O7Sim, SimConfig, build_data, create_app

    config = SimConfig(
        login="gateway", password=secret, fault_rate=rate, seed=seed, slow_delay=0.02
    )
    o7 = O7Sim(build_data(school), config)
    return o7, create_app(o7), o7.data.school_guid


@contextlib.contextmanager
def served(
    system: str,
    school: SchoolData,
    store_url: str,
    *,
    rate: float = 0.0,
    seed: int = 0,
    entities: dict[str, Any] | None = None,
    secret: str = "secret",
) -> Iterator[Served]:
    """``school`` behind the simulator of ``system`` (faults at ``rate``), an empty store."""
    sim, app, remote = faulty_sim(system, school, rate, seed, secret)
    counted = Counted()
    with serve_in_thread(CountingApp(app, counted)) as url:
        options = O7_OPTIONS if system == "o7" else None
        table = system_table(system, url, remote, entities or {}, options)
        table.update(retries=RETRIES, retry_budget=120)
        world = open_world(store_url, school, {system: table})
        try:
            yield Served(system, world, sim, counted)
        finally:
            world.store.close()


def pull(world: World, system: str) -> RunReport:
    job = jobs.open_job(world.store, world.school_config.setup(system))
    try:
        return jobs.pull(world.store, world.config.sync, job, PullOptions())
    finally:
        job.close()


def push(world: World, system: str) -> RunReport:
    job = jobs.open_job(world.store, world.school_config.setup(system))
    try:
        return jobs.push(world.store, job)
    finally:
        job.close()


def pull_until_done(world: World, system: str, bound: int = 25) -> list[RunReport]:
    """Pull again after each failed run (as the scheduler would), at most ``bound`` times."""
    reports: list[RunReport] = []
    for _ in range(bound):
        reports.append(pull(world, system))
        if reports[-1].status in ("success", "partial"):
            return reports
    raise AssertionError(f"{system}: not done after {bound} runs: {reports[-1].error}")


def differences(world: World, system: str) -> dict[str, Any]:
    """A reconciliation of the world's school with ``system``: its summary."""
    job = jobs.open_job(world.store, world.school_config.setup(system))
    try:
        return reconcile(world.store, job, Request()).summary
    finally:
        job.close()


def faults_off(served: Served) -> None:
    """Switch the simulator's faults off (a reconciliation reads the system as it is)."""
    if served.system == "es2":
        from fixtures.es2 import Faults

        served.sim.faults = Faults()
    elif served.system == "asiou":
        from fixtures.asiou import Faults as AFaults

        served.sim.faults = AFaults()
    else:
        served.sim.config.fault_rate = 0.0


@dataclass
class Timed:
    seconds: float = 0.0

    @contextlib.contextmanager
    def measure(self) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - t0


MARKS_BOTH = {Entity.MARKS.value: {"direction": "both"}}


@dataclass
class Canned:
    """An answer served instead of the simulator's: status, headers, raw body."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: served only to a request whose body holds this (others go to the simulator)
    when: bytes | None = None


class Override:
    """An ASGI wrapper that answers requests matching a rule with a canned answer, passes the
    rest to the simulator, and can record the simulator's answers (``record``: path → bodies).

    A rule is (method, path, json-rpc method or None); its answer serves every matching request
    until the rule is cleared."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.rules: dict[tuple[str, str], Canned] = {}
        self.hits: Counter[tuple[str, str]] = Counter()
        self.recording = False
        self.recorded: list[tuple[str, str, bytes, bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = (scope["method"], scope["path"])
        canned = self.rules.get(key)
        if canned is None and not self.recording:
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:  # the request's body (read once; replayed to the simulator)
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if canned is not None and canned.when is not None and canned.when not in body:
            canned = None
        if canned is not None:
            self.hits[key] += 1
            headers = [(k.lower().encode(), v.encode("latin-1")) for k, v in canned.headers.items()]
            headers.append((b"content-length", str(len(canned.body)).encode()))
            await send({"type": "http.response.start", "status": canned.status, "headers": headers})
            await send({"type": "http.response.body", "body": canned.body})
            return
        sent = [False]

        async def replay() -> Any:
            if not sent[0]:
                sent[0] = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        chunks: list[bytes] = []

        async def recording(message: Any) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, replay, recording)
        query = scope.get("query_string", b"").decode()
        self.recorded.append((scope["method"], f"{scope['path']}?{query}", body, b"".join(chunks)))
