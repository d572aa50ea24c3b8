"""Bench: reconciliation of the large school's whole year, every entity, with the ES2 simulator,
beside the bare remote read (the connector's pull only: the same pages fetched and parsed, nothing
mapped or compared) measured in the same run.

The simulator runs in its own process. Each step runs in a fresh child process so that its peak
memory is its own: ``sync`` fills a store from the simulator (untimed set-up) and changes a few
hundred records on it (so the report has differences to show); ``bare`` reads every page through
the connector; ``mapped`` also maps each page to canonical records (the floor of a comparison made
as the mapping normalises); ``reconcile`` reconciles the school and renders the report in all four formats,
timing each phase (read remote, read store, compare, render).

Targets (issue «Reconciliation and journal-control reports»): ≤ 10 s, ≤ 500 MB peak, the whole
reconciliation ≤ 1.5 × the bare read.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import Row, peak_rss_mb
from bench._server import in_child
from bench.es2_pull import CREDS, PAGE, _year
from bench.sync_full import simulator

SIZE = os.environ.get("SCHOOLGATE_BENCH_SIZE", "large")
#: records changed on the simulator after the sync: differences for the report
DRIFT = 300
GOAL_S = 10.0
GOAL_MB = 500.0
GOAL_RATIO = 1.5


def _config(url: str, workdir: str) -> Any:
    from schoolgate.config import parse_config
    from schoolgate.logs import configure_logging

    configure_logging("json", "warning")
    start, end = _year(url)
    os.environ.update(
        {"SG_BENCH_ID": CREDS["client_id"], "SG_BENCH_SECRET": CREDS["client_secret"]}
    )
    return parse_config(
        {
            "store": {"url": f"sqlite:///{workdir}/reconcile.db"},
            "log": {"level": "warning"},
            "schools": [
                {
                    "id": "sch1",
                    "name": "Большая школа",
                    "systems": {
                        "es2": {
                            "base_url": url,
                            "remote_school": "42",
                            "credentials": {
                                "client_id": {"env": "SG_BENCH_ID"},
                                "client_secret": {"env": "SG_BENCH_SECRET"},
                            },
                            "timeout": 120,
                            "options": {
                                "page_size": PAGE,
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


def measure_sync(url: str, workdir: str) -> dict[str, Any]:
    """Set-up, untimed: the store synced from the simulator, then records changed there."""
    from store import Store
    from sync import jobs
    from sync.pull import PullOptions

    config = _config(url, workdir)
    store = Store.open(config.store.url)
    store.upgrade()
    job = jobs.open_job(store, config.schools[0].setup("es2"))
    try:
        report = jobs.pull(store, config.sync, job, PullOptions())
    finally:
        job.close()
    store.close()
    changed = httpx.post(
        f"{url}/_admin/mutate", json={"seed": 7, "changes": DRIFT}, timeout=600
    ).json()
    return {"status": report.status, "records": report.counts.total("created"), **changed}


def measure_bare(url: str, workdir: str) -> dict[str, Any]:
    """The bare remote read: every page of every entity through the connector, nothing else."""
    from reports.reconcile.remote import pages, readable
    from store import Store
    from sync import jobs

    config = _config(url, workdir)
    store = Store.open(config.store.url)
    job = jobs.open_job(store, config.schools[0].setup("es2"))
    entities, _ = readable(job.connector, None)
    records = 0
    t0 = time.perf_counter()
    for page in pages(job.connector, entities):
        records += len(page.records)
    seconds = time.perf_counter() - t0
    job.close()
    store.close()
    return {"records": records, "seconds": seconds, "peak_mb": peak_rss_mb()}


def measure_mapped(url: str, workdir: str) -> dict[str, Any]:
    """The floor of any reconciliation that compares text as the mapping normalises it: the
    connector's pages mapped to canonical records, nothing looked up, sorted or compared."""
    from reports.reconcile.remote import map_page, pages, readable
    from store import Store
    from sync import jobs

    config = _config(url, workdir)
    store = Store.open(config.store.url)
    job = jobs.open_job(store, config.schools[0].setup("es2"))
    entities, _ = readable(job.connector, None)
    records = 0
    t0 = time.perf_counter()
    for page in pages(job.connector, entities):
        records += len(map_page(job.mapper, page)[0])
    seconds = time.perf_counter() - t0
    job.close()
    store.close()
    return {"records": records, "seconds": seconds, "peak_mb": peak_rss_mb()}


def measure_reconcile(url: str, workdir: str) -> dict[str, Any]:
    """The whole reconciliation and its report in four formats, each phase timed."""
    from reports.reconcile import Reconciler, Request
    from reports.reconcile.output import FORMATS, write_reconciliation
    from reports.text import zone
    from store import Store
    from sync import jobs

    config = _config(url, workdir)
    store = Store.open(config.store.url)
    t0 = time.perf_counter()
    job = jobs.open_job(store, config.schools[0].setup("es2"))
    try:
        rec = Reconciler(store, job, Request())
        outcome = rec.run()
    finally:
        job.close()
    t1 = time.perf_counter()
    sizes = {}
    rendered: dict[str, float] = {}
    for fmt in FORMATS:
        t = time.perf_counter()
        path = write_reconciliation(
            store, outcome.id, fmt, Path(workdir) / f"r.{fmt}", tz=zone("Europe/Moscow"),
            school_name="Большая школа",
        )  # fmt: skip
        rendered[fmt] = time.perf_counter() - t
        sizes[fmt] = path.stat().st_size
    t2 = time.perf_counter()
    store.close()
    entities = outcome.summary["entities"]
    return {
        "whole_s": t2 - t0,
        "reconcile_s": t1 - t0,
        "render_s": t2 - t1,
        "phases": rec.clock.spent,
        "rendered": rendered,
        "sizes": sizes,
        "differences": outcome.differences,
        "records": sum(int(c.get("system", 0)) for c in entities.values()),
        "matched": sum(int(c.get("matched", 0)) for c in entities.values()),
        "peak_mb": peak_rss_mb(),
    }


def _child(kind: str, url: str, workdir: str) -> dict[str, Any]:
    return in_child("bench.reconcile", kind, url, workdir)


def run() -> list[Row]:
    with simulator(SIZE) as url, tempfile.TemporaryDirectory() as workdir:
        synced = _child("sync", url, workdir)
        bare = _child("bare", url, workdir)
        mapped = _child("mapped", url, workdir)
        rec = _child("reconcile", url, workdir)
    entry = "reconcile"
    whole, bare_s = rec["whole_s"], bare["seconds"]
    ratio = whole / bare_s
    phases = rec["phases"]
    phase_note = (
        f"read remote {phases['read_remote']:.2f} s, read store {phases['read_store']:.2f} s, "
        f"compare {phases['compare']:.2f} s, render {rec['render_s']:.2f} s ("
        + ", ".join(f"{k} {v:.2f}" for k, v in rec["rendered"].items())
        + ")"
    )
    return [
        Row(
            entry,
            f"reconciliation, {SIZE} school, whole year ({rec['records']:,} records)",
            whole,
            "s",
            limit=bare_s,
            limit_label="bare connector read",
            target=f"<= {GOAL_RATIO} × bare read, <= {GOAL_S:.0f} s",
            ok=ratio <= GOAL_RATIO and whole <= GOAL_S and synced["status"] == "success",
            note=f"ratio {ratio:.2f}; {phase_note}; {rec['differences']} differences "
            f"(of {synced.get('changes')} changes)",
        ),
        Row(entry, "phase: read remote (read, map, look up, sort)", phases["read_remote"], "s",
            limit=bare_s, limit_label="bare connector read"),
        Row(entry, "floor: connector + mapping only (no look-up, sort or compare)",
            mapped["seconds"], "s", limit=bare_s, limit_label="bare connector read",
            note=f"{mapped['records']:,} records mapped; 1.5 × bare read = {1.5 * bare_s:.2f} s"),
        Row(entry, "phase: read store", phases["read_store"], "s"),
        Row(entry, "phase: compare (merge, label, store rows)", phases["compare"], "s"),
        Row(entry, "phase: render (html, xlsx, json, csv)", rec["render_s"], "s"),
        Row(
            entry,
            "peak memory of the reconciling process",
            rec["peak_mb"],
            "MB",
            limit=bare["peak_mb"],
            limit_label="bare connector read",
            target=f"<= {GOAL_MB:.0f} MB",
            ok=rec["peak_mb"] <= GOAL_MB,
        ),
    ]  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 4:
        kind, url, workdir = sys.argv[1:4]
        measure = {
            "sync": measure_sync,
            "bare": measure_bare,
            "mapped": measure_mapped,
            "reconcile": measure_reconcile,
        }
        print(json.dumps(measure[kind](url, workdir), ensure_ascii=False))
    else:
        for row in run():
            print(json.dumps(row.to_json(), ensure_ascii=False))
