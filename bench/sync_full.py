"""Bench: full initial sync of the large school from the ES2 simulator into SQLite, end to end,
beside the raw limit measured in the same run (the same JSON pages fetched with httpx, parsed with
``json`` and inserted with ``sqlite3.executemany``); then an incremental re-sync after 1 % of the
records changed on the simulator; peak memory of the syncing process.

Targets (issue «Sync engine»): full sync ≥ 30,000 records/s; incremental ≤ 5 % of the full sync's
time; peak memory ≤ 400 MB.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx

from bench import Row, peak_rss_mb
from bench._server import in_child, served
from bench.es2_pull import CREDS, PAGE, SEED, _year, raw_bodies, raw_pages

SIZE = os.environ.get("SCHOOLGATE_BENCH_SIZE", "large")
SERVER = """
import datetime as dt, json, sys
from fixtures.es2 import SimClock, Simulator
from fixtures.generator import generate_school, mutate
from fixtures.serve import serve_forever

school = generate_school(int(sys.argv[1]), sys.argv[2])
# the simulated "now" is the evening after the school's last recorded change
last = max(r.modified_at for r in school.all_records() if r.modified_at is not None)
sim = Simulator(school, clock=SimClock(start=last + dt.timedelta(hours=12)))
held = {"school": school}


async def app(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/_admin/mutate":
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        req = json.loads(body)
        new, changes = mutate(held["school"], req["seed"], changes=req["changes"])
        held["school"] = new
        counts = sim.sync_to(new)
        payload = json.dumps({"changes": len(changes), **counts}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})
        return
    await sim.app(scope, receive, send)


serve_forever(app, port=int(sys.argv[3]))
"""


def simulator(size: str) -> AbstractContextManager[str]:
    return served(
        SERVER,
        str(SEED),
        size,
        ready=lambda url: httpx.post(
            f"{url}/api/v2/auth/token", json={**CREDS, "school_id": 42}, timeout=2
        ),
    )


def measure_sync(url: str, workdir: str, store_url: str = "") -> dict[str, Any]:
    """In a child process: full sync, 1 % changed on the simulator, incremental re-sync; into
    ``store_url`` (a fresh PostgreSQL schema) or, by default, a new SQLite store in ``workdir``."""
    from schoolgate.config import parse_config
    from store import Store
    from sync import jobs
    from sync.pull import PullOptions

    start, end = _year(url)
    os.environ.update(
        {"SG_BENCH_ID": CREDS["client_id"], "SG_BENCH_SECRET": CREDS["client_secret"]}
    )
    config = parse_config(
        {
            "store": {"url": store_url or f"sqlite:///{workdir}/sync.db"},
            "log": {"level": "warning"},
            "schools": [
                {
                    "id": "sch1",
                    "name": "bench",
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
    from schoolgate.logs import configure_logging

    configure_logging("json", "warning")
    store = Store.open(config.store.url)
    store.upgrade()
    job = jobs.open_job(store, config.schools[0].setup("es2"))
    t0 = time.perf_counter()
    full = jobs.pull(store, config.sync, job, PullOptions())
    full_s = time.perf_counter() - t0
    records = full.counts.total("created")
    changed = httpx.post(
        f"{url}/_admin/mutate", json={"seed": 99, "changes": records // 100}, timeout=600
    ).json()
    t1 = time.perf_counter()
    inc = jobs.pull(store, config.sync, job, PullOptions())
    inc_s = time.perf_counter() - t1
    job.close()
    return {
        "status": full.status,
        "records": records,
        "full_s": full_s,
        "inc_status": inc.status,
        "inc_s": inc_s,
        "inc_counts": inc.counts.as_dict(),
        "changed": changed,
        "peak_mb": peak_rss_mb(),
    }


def measure_raw(url: str, workdir: str, only: str = "") -> dict[str, Any]:
    """The same pages: httpx + json + sqlite3.executemany into one table per path (``only``:
    a comma-separated list of the paths to read, e.g. ``marks``)."""

    paths = frozenset(only.split(",")) if only else None
    db = sqlite3.connect(
        Path(workdir) / f"raw{'-' + only if only else ''}.db", isolation_level=None
    )
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    count = 0
    t0 = time.perf_counter()
    db.execute("BEGIN")
    made: dict[str, tuple[str, list[str]]] = {}
    for path, items in raw_pages(url, timeout=120, only=paths):
        if not items:
            continue
        if path not in made:
            cols = list(items[0])
            db.execute(
                f'CREATE TABLE "{path}" ({", ".join(f"{c!r}" for c in cols)}, PRIMARY KEY (id))'
            )
            sql = f'INSERT OR REPLACE INTO "{path}" VALUES ({", ".join("?" for _ in cols)})'
            made[path] = (sql, cols)
        sql, cols = made[path]
        db.executemany(
            sql,
            [
                tuple(
                    json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                    for v in (it.get(c) for c in cols)
                )
                for it in items
            ],
        )
        count += len(items)
    db.execute("COMMIT")
    db.close()
    return {"records": count, "seconds": time.perf_counter() - t0}


#: what the sync writes: the record tables, the identity map and the change log
FLOOR_TABLES = (
    "periods",
    "subjects",
    "teachers",
    "classes",
    "pupils",
    "subgroups",
    "lessons",
    "marks",
    "final_marks",
    "attendance",
    "identity_map",
    "change_log",
)


def measure_floor(url: str, workdir: str) -> dict[str, Any]:
    """What any one-process sync into this store must spend at least, whatever its code: the
    pages parsed with ``json``, the canonical records validated by their pydantic models, and
    the very rows the sync wrote (records, identity map, change log) written again with plain
    ``sqlite3.executemany`` into a new store of the same schema, 10,000 rows per transaction.
    The inputs are gathered first, untimed; the three steps are timed one after the other."""
    from sqlalchemy import select

    from core.entities import PULL_ORDER
    from store import Store
    from store.codec import CODECS
    from store.records import table_of

    bodies = [content for _, content in raw_bodies(url, timeout=120)]
    src = sqlite3.connect(Path(workdir) / "sync.db")
    rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    for table in FLOOR_TABLES:
        cols = [r[1] for r in src.execute(f'PRAGMA table_info("{table}")')]
        rows[table] = (cols, src.execute(f'SELECT * FROM "{table}"').fetchall())
    src.close()
    store = Store.open(f"sqlite:///{workdir}/sync.db")
    with store.read() as tx:  # the rows as the store reads them back: typed values
        typed = {
            e: [dict(r._mapping) for r in tx.conn.execute(select(table_of(e)))]
            for e in PULL_ORDER
            if e.value in rows
        }
    store.close()

    t0 = time.perf_counter()
    for content in bodies:
        json.loads(content)
    parse_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for entity, mappings in typed.items():
        decode = CODECS[entity].decode
        for mapping in mappings:
            decode(mapping)
    validate_s = time.perf_counter() - t0

    path = Path(workdir) / "floor.db"
    store = Store.open(f"sqlite:///{path}")
    store.upgrade()
    store.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    written = 0
    t0 = time.perf_counter()
    for table, (cols, table_rows) in rows.items():
        sql = f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({", ".join("?" for _ in cols)})'
        for start in range(0, len(table_rows), 10_000):
            db.execute("BEGIN")
            db.executemany(sql, table_rows[start : start + 10_000])
            db.execute("COMMIT")
        written += len(table_rows)
    write_s = time.perf_counter() - t0
    db.close()
    return {"parse_s": parse_s, "validate_s": validate_s, "write_s": write_s, "rows": written}


def _child(kind: str, url: str, workdir: str) -> dict[str, Any]:
    return in_child("bench.sync_full", kind, url, workdir)


def run() -> list[Row]:
    with simulator(SIZE) as url, tempfile.TemporaryDirectory() as workdir:
        raw = _child("raw", url, workdir)
        sync = _child("sync", url, workdir)
        floor = _child("floor", url, workdir)
    rate = sync["records"] / sync["full_s"]
    raw_rate = raw["records"] / raw["seconds"]
    share = sync["inc_s"] / sync["full_s"]
    entry = "sync_full"
    floor_s = floor["parse_s"] + floor["validate_s"] + floor["write_s"]
    allowed = sync["records"] / 30_000
    return [
        Row(
            entry,
            f"full sync {SIZE} school ({sync['records']:,} records)",
            rate,
            "rec/s",
            limit=raw_rate,
            limit_label="httpx+json+sqlite3.executemany",
            target=">= 30,000 rec/s",
            ok=rate >= 30_000 and sync["status"] == "success",
            note=f"{sync['full_s']:.1f} s vs raw {raw['seconds']:.1f} s",
        ),
        Row(
            entry,
            "floor: json + pydantic + the sync's rows by executemany",
            floor_s,
            "s",
            limit=allowed,
            limit_label="time 30,000 rec/s allows",
            target="(what one process cannot go below)",
            note=(
                f"parse {floor['parse_s']:.1f} + validate {floor['validate_s']:.1f} + write "
                f"{floor['write_s']:.1f} s ({floor['rows']:,} rows); sync {sync['full_s']:.1f} s"
            ),
        ),
        Row(
            entry,
            "incremental re-sync, 1% changed",
            sync["inc_s"],
            "s",
            limit=sync["full_s"],
            limit_label="full sync",
            target="<= 5% of full",
            ok=share <= 0.05 and sync["inc_status"] == "success",
            note=f"{share:.1%} of full; changes {sync['changed'].get('changes')}",
        ),
        Row(
            entry,
            "peak memory of the syncing process",
            sync["peak_mb"],
            "MB",
            target="<= 400 MB",
            ok=sync["peak_mb"] <= 400,
        ),
    ]


if __name__ == "__main__":
    kind, url, workdir, *rest = sys.argv[1:]
    measure = {"sync": measure_sync, "raw": measure_raw, "floor": measure_floor}[kind]
    out = measure(url, workdir, *rest)
    print(json.dumps(out, ensure_ascii=False))
