"""One system's full pull into a fresh SQLite store through the gateway (``sync.jobs.pull``), in
the calling process: what the end-to-end benches measure (records/s, peak memory)."""

from __future__ import annotations

import os
import time
from typing import Any

from bench import peak_rss_mb


def pull_once(
    system: str,
    url: str,
    workdir: str,
    *,
    remote: str,
    credentials: dict[str, str],
    options: dict[str, Any] | None = None,
    entities: frozenset[str] | None = None,
    then: frozenset[str] | None = None,
) -> dict[str, Any]:
    """A full pull of ``system`` (``entities`` only, if given); with ``then``, a second pull of
    those entities only, timed apart (a phase of the sync, e.g. ES2 marks after the roster)."""
    from core.entities import Entity
    from schoolgate.config import parse_config
    from schoolgate.logs import configure_logging
    from store import Store
    from sync import jobs
    from sync.pull import PullOptions

    env = {f"SG_BENCH_{k.upper()}": v for k, v in credentials.items()}
    os.environ.update(env)
    config = parse_config(
        {
            "store": {"url": f"sqlite:///{workdir}/{system}.db"},
            "log": {"level": "warning"},
            "schools": [
                {
                    "id": "sch1",
                    "name": "bench",
                    "systems": {
                        system: {
                            "base_url": url,
                            "remote_school": remote,
                            "credentials": {
                                k: {"env": f"SG_BENCH_{k.upper()}"} for k in credentials
                            },
                            "timeout": 300,
                            "options": options or {},
                        }
                    },
                }
            ],
        }
    )
    configure_logging("json", "warning")
    store = Store.open(config.store.url)
    store.upgrade()
    job = jobs.open_job(store, config.schools[0].setup(system))

    def opts(names: frozenset[str] | None) -> PullOptions:
        return PullOptions(entities=None if names is None else frozenset(map(Entity, names)))

    t0, c0 = time.perf_counter(), time.process_time()
    first = jobs.pull(store, config.sync, job, opts(entities))
    first_s, first_cpu = time.perf_counter() - t0, time.process_time() - c0
    out: dict[str, Any] = {
        "status": first.status,
        "records": first.counts.total("created"),
        "rejected": first.counts.total("rejected"),
        "seconds": first_s,
        "cpu_s": first_cpu,
        "peak_mb": peak_rss_mb(),
    }
    if then is not None:
        t1, c1 = time.perf_counter(), time.process_time()
        second = jobs.pull(store, config.sync, job, opts(then))
        out.update(
            then_cpu_s=time.process_time() - c1,
            then_status=second.status,
            then_records=second.counts.total("created"),
            then_seconds=time.perf_counter() - t1,
            peak_mb=peak_rss_mb(),
        )
    job.close()
    store.close()
    return out
