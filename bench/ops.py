"""Jobs at region scale: workers over Redis (store on PostgreSQL) and one large school under
ES2's rate limit.

* ``workers``: 20 small schools (``SCHOOLGATE_BENCH_SIZE`` makes them smaller, and
  ``SCHOOLGATE_BENCH_SCHOOLS`` fewer), each with its ES2 simulator answering in 50 ms (served by
  one process of their own); every school's full pull queued, then 1, 2 and 4 worker processes
  (``schoolgate worker``) drain the queue. Schools/min and records/s from the runs' own times
  (first start to last end); each beside N × the one-worker figure measured in the same run.
  The bar: 2 workers ≥ 1.7 × 1 worker.
* ``large``: the large school's full ES2 sync with answers in 100 ms under the contract's limit
  of 10 requests/s per client, beside the contract's own lower bound: pages ÷ 10 per second, or
  the longest chain of pages that must be read one after another (an entity's cursor chain) ×
  100 ms, whichever is longer. The bar: ≤ 1.2 × that bound.
* ``region``: the same school's nightly incremental sync (nothing changed, no lessons moved)
  right after, and what 500 such schools take one worker, in hours.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench import Row
from bench._server import served

SIZE = os.environ.get("SCHOOLGATE_BENCH_SIZE")
SMALL = SIZE or "small"
LARGE = SIZE or "large"
N_SCHOOLS = int(os.environ.get("SCHOOLGATE_BENCH_SCHOOLS", "20"))
PG = os.environ.get("SCHOOLGATE_BENCH_PG", "postgresql+psycopg://root@127.0.0.1:5432/test")
REDIS = os.environ.get("SCHOOLGATE_BENCH_REDIS", "redis://127.0.0.1:6379/0")
CREDS = {"client_id": "schoolgate", "client_secret": "secret"}
ENV = {"SG_B_ES2_ID": "schoolgate", "SG_B_ES2_SECRET": "secret"}
WORKERS = (1, 2, 4)

#: one process serving every small school's simulator (its own GIL, not the workers')
MANY = """
import json, sys, threading, contextlib
from fixtures.es2 import Simulator
from fixtures.generator import generate_school
from fixtures.pace import Pace
from fixtures.serve import serve_in_thread
n, size = int(sys.argv[1]), sys.argv[2]
stack = contextlib.ExitStack()
out = []
for i in range(n):
    school = generate_school(500 + i, size, school_id=f"b{i + 1}", id_base=i * 100_000_000)
    sim = Simulator(school, pace=Pace(latency_ms=50))
    url = stack.enter_context(serve_in_thread(sim.app))
    out.append({"id": school.school.id, "url": url, "remote": sim.school_id,
                "records": school.count()})
print(json.dumps(out), flush=True)
threading.Event().wait()
"""

LARGE_SERVER = (
    "import sys; from fixtures.es2 import build_app; from fixtures.pace import Pace; "
    "from fixtures.serve import serve_forever; "
    "serve_forever(build_app(seed=1, size=sys.argv[1], "
    "pace=Pace(latency_ms=100, rate_limit=10)), port=int(sys.argv[2]))"
)

SCHOOL = """
[[schools]]
id = "{id}"
name = "Школа {id}"
[schools.systems.es2]
base_url = "{url}"
remote_school = "{remote}"
credentials = {{ client_id = {{ env = "SG_B_ES2_ID" }}, client_secret = {{ env = "SG_B_ES2_SECRET" }} }}
options = {{ year_start = "2025-09-01", year_end = "2026-05-31", today = "2025-10-24" }}
"""


@contextlib.contextmanager
def _schema() -> Iterator[str]:
    import psycopg

    raw = PG.replace("postgresql+psycopg", "postgresql")
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield f"{PG}?options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@contextlib.contextmanager
def _simulators(n: int, size: str) -> Iterator[list[dict[str, Any]]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", MANY, str(n), size],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the simulators did not start")
        yield json.loads(line)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _drain(schools: list[dict[str, Any]], workers: int, directory: Path) -> dict[str, float]:
    """Queue every school's full pull, start ``workers`` worker processes, wait until the queue
    is empty: the runs' span, records read and schools synced."""
    from ops.queue import JobQueue
    from store import JobKey, Paging, RunFilter, Store

    queue_name = f"bench-{uuid.uuid4().hex[:8]}"
    with _schema() as url:
        config = directory / f"w{workers}.toml"
        config.write_text(
            f'[store]\nurl = "{url}"\n[log]\nlevel = "warning"\n'
            f'[queue]\nurl = "{REDIS}"\nname = "{queue_name}"\n'
            + "".join(SCHOOL.format(**s) for s in schools),
            encoding="utf-8",
        )
        store = Store.open(url)
        store.upgrade()
        queue = JobQueue.redis(REDIS, lambda k, t: None, queue_name)
        for s in schools:
            key = JobKey(s["id"], "es2", "pull")
            with store.begin() as tx:
                ticket = tx.jobs.enqueue(key, reason="bench")
            assert ticket is not None
            queue.send(key, ticket)
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "schoolgate.cli",
                    "worker",
                    "--no-scheduler",
                    "--config",
                    str(config),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=os.environ | ENV,
            )
            for _ in range(workers)
        ]
        try:
            while True:
                with store.read() as tx:
                    left = tx.queries.job_queue()
                if not left:
                    break
                time.sleep(0.5)
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(timeout=120)
            queue.flush()
        with store.read() as tx:
            runs = tx.queries.runs(RunFilter(direction="pull"), Paging(1000)).items
        store.close()
    done = [r for r in runs if r.status in ("success", "partial") and r.finished_at]
    span = max(r.finished_at for r in done if r.finished_at) - min(r.started_at for r in runs)
    records = sum(int(n) for r in done for row in r.counts.values() for n in row.values())
    return {
        "seconds": span.total_seconds(),
        "schools": len({r.school_id for r in done}),
        "records": records,
    }


def _workers_rows() -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, _simulators(N_SCHOOLS, SMALL) as schools:
        results = {n: _drain(schools, n, Path(tmp)) for n in WORKERS}
    one = results[1]
    per_min_1 = one["schools"] / one["seconds"] * 60
    for n in WORKERS:
        r = results[n]
        per_min = r["schools"] / r["seconds"] * 60
        label = f"{N_SCHOOLS} {SMALL} schools, 50 ms, {n} worker{'s' if n > 1 else ''}"
        rows.append(
            Row(
                entry="ops",
                metric=f"schools/min, {label}",
                value=per_min,
                unit="schools/min",
                limit=n * per_min_1,
                limit_label=f"{n} × 1 worker",
                target="2 workers ≥ 1.7 × 1" if n == 2 else "",
                ok=(per_min >= 1.7 * per_min_1) if n == 2 else None,
                note=f"{r['schools']:.0f} schools in {r['seconds']:.1f} s; "
                f"{r['records'] / r['seconds']:,.0f} records/s; "
                f"ratio to 1 worker {per_min / per_min_1:.2f}",
            )
        )
    return rows


def _large_rows() -> list[Row]:
    from core.entities import Entity
    from schoolgate import runner
    from schoolgate.config import parse_config
    from store import Store

    os.environ.update(ENV)
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        served(
            LARGE_SERVER,
            LARGE,
            ready=lambda url: httpx.post(
                f"{url}/api/v2/auth/token", json={**CREDS, "school_id": 42}, timeout=2
            ),
        ) as url,
    ):
        from bench.es2_pull import _year

        start, end = _year(url)
        time.sleep(1.1)  # the rate limit's window is clear again
        config = parse_config(
            {
                "store": {"url": f"sqlite:///{tmp}/large.db"},
                "schools": [
                    {
                        "id": "large",
                        "name": "large",
                        "systems": {
                            "es2": {
                                "base_url": url,
                                "remote_school": "42",
                                "credentials": {
                                    "client_id": {"env": "SG_B_ES2_ID"},
                                    "client_secret": {"env": "SG_B_ES2_SECRET"},
                                },
                                "options": {
                                    "year_start": start.isoformat(),
                                    "year_end": end.isoformat(),
                                    "today": end.isoformat(),
                                },
                            }
                        },
                    }
                ],
            }
        )
        store = Store.open(config.store.url)
        store.upgrade()
        setup = config.school("large").setup("es2")
        pages: dict[Entity, int] = {}

        def count(entity: Entity, n: int) -> None:
            pages[entity] = pages.get(entity, 0) + 1

        t0 = time.perf_counter()
        full = runner.pull(store, config, setup, progress=count)
        full_s = time.perf_counter() - t0
        full_pages = dict(pages)
        pages.clear()
        time.sleep(1.1)
        t0 = time.perf_counter()
        inc = runner.pull(store, config, setup, progress=count)
        inc_s = time.perf_counter() - t0
        inc_pages = sum(pages.values())
        store.close()
    total = sum(full_pages.values())
    chain = max(full_pages.values())
    bound = max(total / 10, chain * 0.1)
    records = sum(int(n) for row in full.counts.as_dict().values() for n in row.values())
    rows.append(
        Row(
            entry="ops",
            metric=f"ES2 full sync, {LARGE} school, 100 ms, 10 req/s",
            value=full_s,
            unit="s",
            limit=bound,
            limit_label=f"contract bound: {total} pages ÷ 10/s; longest chain {chain}",
            target="≤ 1.2 × bound",
            ok=full_s <= 1.2 * bound and full.status != "failed",
            note=f"{full.status}; {records:,} records, {records / full_s:,.0f} records/s",
        )
    )
    inc_bound = max(inc_pages / 10, 0.1)
    hours = 500 * inc_s / 3600
    rows.append(
        Row(
            entry="ops",
            metric=f"nightly incremental sync, {LARGE} school (region: 500 per worker)",
            value=inc_s,
            unit="s",
            limit=inc_bound,
            limit_label=f"{inc_pages} pages ÷ 10/s",
            note=f"{inc.status}; 500 such schools: {hours:.2f} h per worker",
        )
    )
    return rows


def run() -> list[Row]:
    return _workers_rows() + _large_rows()


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row.to_json(), ensure_ascii=False))
