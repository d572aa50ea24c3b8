"""``schoolgate run`` on the embedded queue (SQLite beside the store), as a process of its own:
stopped with jobs queued and one running, it exits 0 and the jobs run once after the restart;
a system's blackout holds its jobs until the window ends; ``status --json`` says so."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.pace import Pace
from ops.queue import JobQueue, QueueSettings, embedded_path
from store import JobKey, Paging, Run, RunFilter, Store
from tests.ops.world import ENV, ROSTER_ONLY, wait_for, world

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

NEVER = '[schedule]\ndefaults.es2 = { pull = "0 0 1 1 *" }\nlock_ttl_seconds = 5\n'


def pulls(store: Store) -> list[Run]:
    with store.read() as tx:
        page = tx.queries.runs(RunFilter(direction="pull"), Paging(1000))
    return sorted(page.items, key=lambda r: r.started_at)


def queue_jobs(store: Store, store_url: str, keys: list[JobKey]) -> None:
    """Put jobs on the embedded queue as the scheduler does, with no worker running."""
    queue = JobQueue.embedded(embedded_path(QueueSettings(), store_url), lambda k, t: None)
    for key in keys:
        with store.begin() as tx:
            ticket = tx.jobs.enqueue(key, reason="manual")
        assert ticket is not None
        queue.send(key, ticket)


def test_restarted_with_jobs_queued_they_run_once(tmp_path: Path) -> None:
    with world(tmp_path, 3, seed0=301) as w:
        url = f"sqlite:///{tmp_path}/store.db"
        w.write_config(url, NEVER, ROSTER_ONLY)
        for sim in w.sims:  # answers take 150 ms: a pull takes a few seconds
            sim._delay.pace = Pace(latency_ms=150)
        store = Store.open(url)
        store.upgrade()
        keys = [JobKey(s.school.id, "es2", "pull") for s in w.schools]
        queue_jobs(store, url, keys)

        first = w.start("run", "--workers", "1", log=tmp_path / "run1.log")
        wait_for(lambda: any(r.status == "running" for r in pulls(store)), 60)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
        before = pulls(store)
        assert len(before) == 1 and before[0].status == "failed"
        assert "shutting down" in (before[0].error or "")
        with store.read() as tx:
            assert sorted(j.key for j in tx.queries.job_queue()) == sorted(keys)
            assert tx.queries.job_locks() == []  # released on the way out

        second = w.start("run", "--workers", "1", log=tmp_path / "run2.log")

        def all_ran() -> bool:
            with store.read() as tx:
                left = tx.queries.job_queue()
            done = {r.school_id for r in pulls(store) if r.status == "success"}
            return not left and done == {k.school_id for k in keys}

        wait_for(all_ran, 90, every=0.5)
        time.sleep(3)  # anything queued twice would run now
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
        after = pulls(store)
        ok = [r.school_id for r in after if r.status == "success"]
        assert sorted(ok) == sorted(k.school_id for k in keys)  # each once
        assert len(after) == len(keys) + 1  # and the interrupted one
        store.close()


def test_a_blackout_holds_the_systems_jobs_until_it_ends(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    start = (now - dt.timedelta(minutes=1)).strftime("%H:%M")
    end = (now + dt.timedelta(minutes=3)).strftime("%H:%M")
    with world(tmp_path, 1, seed0=401) as w:
        url = f"sqlite:///{tmp_path}/store.db"
        w.write_config(
            url,
            '[schedule]\ntimezone = "UTC"\ndefaults.es2 = { pull = "* * * * * */2" }\n'
            f'blackouts.es2 = {{ start = "{start}", end = "{end}" }}\n',
            ROSTER_ONLY,
        )
        store = Store.open(url)
        store.upgrade()
        school = w.schools[0].school.id
        # a job queued outside the schedule (as after a local write) waits as well
        queue_jobs(store, url, [JobKey(school, "es2", "pull")])
        proc = w.start("run", log=tmp_path / "run.log")

        def deferred() -> bool:
            with store.read() as tx:
                return any(j.reason == "blackout" for j in tx.queries.job_queue())

        wait_for(deferred, 60)
        time.sleep(6)  # three fire times of the schedule pass inside the window
        assert pulls(store) == []
        status = subprocess.run(
            [sys.executable, "-m", "schoolgate.cli", "status", "--json", "--config", str(w.config)],
            capture_output=True,
            text=True,
            env=os.environ | ENV,
            timeout=60,
            check=True,
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        [row] = json.loads(status.stdout)["systems"]
        end_at = dt.datetime.fromisoformat(row["next"]["pull"])
        assert end_at.strftime("%H:%M") == end and end_at > now
        [queued] = row["queued"]
        assert queued["reason"] == "blackout" and queued["attempts"] == 0
        assert dt.datetime.fromisoformat(queued["not_before"]) == end_at
        store.close()
