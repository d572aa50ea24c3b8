"""Workers over real Redis with the store on real PostgreSQL, as processes of their own
(``schoolgate worker``): six schools on a fast schedule shared by two workers, and a worker
killed mid-job whose job the other one finishes."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from core.entities import Entity
from fixtures.pace import Pace
from ops.queue import JobQueue
from ops.schedule import JobSchedule
from schoolgate import runner
from schoolgate.config import load_config
from schoolgate.demo import local_marks
from store import JobKey, OutboxFilter, Paging, Run, RunFilter, Store
from tests.ops.world import ENV, ROSTER_ONLY, wait_for, world

REDIS = os.environ.get("SCHOOLGATE_TEST_REDIS", "redis://127.0.0.1:6379/0")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A queue of its own per test (huey prefixes its Redis keys by the name)."""
    name = f"sgtest-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)


def runs(store: Store, school: str | None = None, direction: str = "pull") -> list[Run]:
    with store.read() as tx:
        page = tx.queries.runs(RunFilter(school_id=school, direction=direction), Paging(1000))
    return sorted(page.items, key=lambda r: r.started_at)


def assert_no_overlap(found: list[Run], killed_at: dt.datetime | None = None) -> None:
    """No two runs of one school × system overlap in time. A run whose process was killed is
    closed by the next run's start, so its end is when it was killed."""
    by_job: dict[tuple[str, str], list[Run]] = {}
    for r in found:
        by_job.setdefault((r.school_id, r.system), []).append(r)
    for job, rs in by_job.items():
        rs.sort(key=lambda r: r.started_at)
        for a, b in itertools.pairwise(rs):
            end = a.finished_at
            if killed_at is not None and "process stopped" in (a.error or ""):
                end = killed_at
            assert end is not None, (job, a.id)
            assert end <= b.started_at, f"{job}: runs {a.id} and {b.id} overlap"


def worker_holders(log: Path) -> set[str]:
    """The lock holders a worker's log names in «job starts» lines."""
    out = set()
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{") and '"job starts"' in line:
            out.add(json.loads(line)["holder"].rsplit(":", 1)[0])
    return out


def config_text(queue_name: str, cron: str, ttl: int = 4) -> str:
    return f"""
[queue]
url = "{REDIS}"
name = "{queue_name}"

[schedule]
timezone = "UTC"
defaults.es2 = {{ pull = "{cron}" }}
lock_ttl_seconds = {ttl}
outbox_poll_seconds = 1
retry_base_seconds = 1
"""


def test_two_workers_sync_six_schools_once_per_tick_never_two_at_once(
    tmp_path: Path, pg_url: str, queue_name: str
) -> None:
    with world(tmp_path, 6) as w:
        w.write_config(pg_url, config_text(queue_name, "* * * * * */15"), ROSTER_ONLY)
        store = Store.open(pg_url)
        store.upgrade()
        logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
        procs = [w.start("worker", "--workers", "2", log=log) for log in logs]

        def three_ticks() -> bool:
            done = [r for r in runs(store) if r.status == "success"]
            return all(sum(r.school_id == s.school.id for r in done) >= 3 for s in w.schools)

        wait_for(three_ticks, timeout=200, every=1)
        stopped_at = dt.datetime.now(dt.UTC)
        for p in procs:
            p.send_signal(signal.SIGTERM)
        assert [p.wait(timeout=60) for p in procs] == [0, 0]

        found = runs(store)
        assert all(r.status != "running" for r in found)
        assert_no_overlap(found)
        # once per tick: no school starts twice between two fire times of its schedule
        sched = JobSchedule("* * * * * */15", dt.UTC)
        first = min(r.started_at for r in found)
        ticks = [
            first - dt.timedelta(seconds=15),
            *sched.next_runs(first - dt.timedelta(seconds=15), 40),
        ]
        for school in w.schools:
            # (a failed run is retried after its backoff, inside the tick: a success counts)
            mine = [
                r.started_at
                for r in found
                if r.school_id == school.school.id and r.status == "success"
            ]
            windows = [sum(a <= t < b for t in mine) for a, b in itertools.pairwise(ticks)]
            assert max(windows) == 1, (school.school.id, windows)
            assert len(mine) >= 3
        assert max(r.started_at for r in found) <= stopped_at
        # both workers took jobs
        assert all(worker_holders(log) for log in logs)
        assert worker_holders(logs[0]) != worker_holders(logs[1])
        with store.read() as tx:
            assert tx.queries.job_locks() == [] or all(
                lk.school_id == "~" for lk in tx.queries.job_locks()
            )
        store.close()


def test_a_killed_workers_job_is_finished_by_the_other_without_duplicates_or_lost_pushes(
    tmp_path: Path, pg_url: str, queue_name: str
) -> None:
    os.environ.update(ENV)
    with world(tmp_path, 1, seed0=201) as w:
        w.write_config(pg_url, config_text(queue_name, "0 0 1 1 *"))
        store = Store.open(pg_url)
        store.upgrade()
        config = load_config(w.config)
        school_id = w.schools[0].school.id
        sim = w.sims[0]
        setup = config.school(school_id).setup("es2")
        assert runner.pull(store, config, setup).status == "success"
        with store.read() as tx:
            before = {e: tx.records.count(e) for e in Entity}
        marks = local_marks(store, school_id, 3)
        written = runner.journal(store, config, school_id).write(marks, actor="teacher")
        assert len(written.accepted) == 3 and written.queued == 3
        sim_marks = sim.state.count("marks")

        # every answer of the system now takes 400 ms: a pull takes seconds
        sim._delay.pace = Pace(latency_ms=400)
        pull = JobKey(school_id, "es2", "pull")
        with store.begin() as tx:
            ticket = tx.jobs.enqueue(pull, reason="manual")
        assert ticket is not None
        JobQueue.redis(REDIS, lambda k, t: None, queue_name).send(pull, ticket)

        killed = w.start("worker", "--workers", "1", log=tmp_path / "a.log")

        def a_runs_the_pull() -> bool:
            with store.read() as tx:
                lock = tx.jobs.lock(school_id, "es2")
            return lock is not None and f":{killed.pid}:" in lock.holder

        wait_for(a_runs_the_pull, timeout=60)
        wait_for(lambda: any(r.status == "running" for r in runs(store, school_id)), 30)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        killed_at = dt.datetime.now(dt.UTC)

        other = w.start("worker", "--workers", "1", log=tmp_path / "b.log")

        def all_done() -> bool:
            with store.read() as tx:
                waiting = tx.queries.outbox(
                    OutboxFilter(school_id=school_id, statuses=("pending", "sending", "failed"))
                ).items
                queued = tx.queries.job_queue()
            pulled = [r for r in runs(store, school_id) if r.started_at > killed_at]
            return not waiting and not queued and any(r.status == "success" for r in pulled)

        wait_for(all_done, timeout=120, every=0.5)
        other.send_signal(signal.SIGTERM)
        assert other.wait(timeout=60) == 0

        pulls = runs(store, school_id)
        assert_no_overlap(pulls + runs(store, school_id, "push"), killed_at)
        killed_run = [r for r in pulls if r.started_at < killed_at][-1]
        assert killed_run.status == "failed"  # the dead worker's run, closed by the next one
        assert pulls[-1].status == "success" and pulls[-1].started_at > killed_at
        assert f":{other.pid}:" in "".join(worker_holders(tmp_path / "b.log")) + ":"
        # no duplicate record: the store holds what it held, plus the three marks entered here
        with store.read() as tx:
            after = {e: tx.records.count(e) for e in Entity}
            items = tx.queries.outbox(OutboxFilter(school_id=school_id, statuses=()), Paging(100))
        assert after == {e: n + (3 if e is Entity.MARKS else 0) for e, n in before.items()}
        # no lost push: each mark reached the system once
        assert len(items.items) == 3
        assert all(i.status in ("accepted", "duplicate") for i in items.items)
        assert sim.state.count("marks") == sim_marks + 3
        store.close()
