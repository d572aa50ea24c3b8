"""Bench: the feed API on loopback for the large school's year (the generated school written into a
SQLite store through ``tx.records.upsert``, as a sync would leave it).

- throughput: one consumer follows the whole feed from the start in pages of 1,000 events
  (HTTP, JSON parsed), beside the raw limit — the same change-log rows read with a plain SQL
  query (``sqlite3``, pages of 1,000 by position) in the same run;
- latency: 20 consumers at once, each following the feed from its own place (spread over the
  year, so no two read the same page), p50 and p99 of a 1,000-event page (request sent → body
  received) after a short warm-up round, beside the same pages read one at a time with the plain
  SQL query. These consumers take the next cursor from the end of each page without parsing its
  events: their own processing is not the server's latency, and in one process on the same two
  cores it would delay their reads of the other sockets and be counted as if it were.

The server is ``schoolgate serve`` in processes of its own (``--workers``, default 2 — the
machine's cores), so the measuring process counts only the consumers' work.

Targets (issue «Feed API»): ≥ 20,000 events/s; p99 ≤ 150 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench import Row
from bench._server import in_child

SEED = 7
SIZE = os.environ.get("SCHOOLGATE_BENCH_SIZE", "large")
WORKERS = int(os.environ.get("SCHOOLGATE_BENCH_FEED_WORKERS", "2"))
THREADS = int(os.environ.get("SCHOOLGATE_BENCH_FEED_THREADS", "1"))
CONSUMERS = 20
PAGE = 1000
PAGES_EACH = 25
WARM_UP = 3


def fill(path: Path) -> tuple[str, int]:
    """The large school's year in a fresh store: its school id and the events written."""
    from core.entities import Entity
    from fixtures.generator import generate_school
    from mapping.model import Record
    from store import Store

    school = generate_school(SEED, SIZE)
    with Store.open(f"sqlite:///{path}") as store:
        store.upgrade()
        for entity in Entity:
            records: list[Record]
            if entity is Entity.SCHOOLS:
                records = [school.school]
            elif entity is Entity.YEARS:
                records = [school.year]
            else:
                records = list(school.records(entity))
            with store.begin() as tx:
                tx.records.upsert(entity, records, source="es2")
        with store.read() as tx:
            return school.school.id, tx.changes.last_position()


def token(path: Path, school: str) -> str:
    from api import issue
    from store import Store

    with Store.open(f"sqlite:///{path}") as store:
        return issue(store, name="bench", schools=[school], scopes=["feed"], rate=1e6, burst=10**6)[
            1
        ]


@contextmanager
def served(workdir: Path, db: Path, school: str) -> Iterator[str]:
    from fixtures.serve import free_port

    config = workdir / "schoolgate.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{db.as_posix()}"\n\n'
        f'[[schools]]\nid = "{school}"\nname = "bench"\n',
        encoding="utf-8",
    )
    port = free_port()
    command = [str(Path(sys.executable).with_name("schoolgate")), "--log-level", "warning"]
    command += ["serve", "--config", str(config), "--port", str(port), "--no-access-log"]
    command += ["--workers", str(WORKERS), "--threads", str(THREADS)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"schoolgate serve exited with {proc.returncode}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("schoolgate serve did not start")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def follow_all(url: str, secret: str) -> tuple[int, float]:
    """One consumer reads the whole feed: (events, seconds)."""
    events = 0
    cursor = None
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"}) as client:
        t0 = time.perf_counter()
        while True:
            params = {"limit": PAGE} | ({"cursor": cursor} if cursor else {})
            page = json.loads(client.get("/feed/v1/changes", params=params).content)
            events += len(page["events"])
            cursor = page["cursor"]
            if not page["more"]:
                return events, time.perf_counter() - t0


def raw_all(db: Path) -> tuple[int, float]:
    """The same rows with a plain SQL query: (rows, seconds)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = last = 0
    t0 = time.perf_counter()
    while True:
        page = con.execute(
            "SELECT * FROM change_log WHERE position > ? ORDER BY position LIMIT ?", (last, PAGE)
        ).fetchall()
        if not page:
            break
        rows += len(page)
        last = page[-1][0]
    elapsed = time.perf_counter() - t0
    con.close()
    return rows, elapsed


def _starts(total: int) -> list[int]:
    """Where each consumer starts: spread over the year, each with room for its pages."""
    room = max(1, total - PAGES_EACH * PAGE)
    return [i * room // CONSUMERS for i in range(CONSUMERS)]


async def _consumer(port: int, secret: str, start: int, pages: int, out: list[float]) -> None:
    """Keep-alive HTTP/1.1 by hand (so the measuring process spends little of the machine):
    each page's latency from request to the last byte; the next cursor from the page's end."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    cursor = f"f1.{start:x}"
    try:
        for _ in range(pages):
            t0 = time.perf_counter()
            writer.write(
                f"GET /feed/v1/changes?limit={PAGE}&cursor={cursor} HTTP/1.1\r\n"
                f"Host: bench\r\nAuthorization: Bearer {secret}\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            out.append(time.perf_counter() - t0)
            at = body.rindex(b'"cursor":"') + 10
            cursor = body[at : body.index(b'"', at)].decode()
    finally:
        writer.close()


def concurrent(url: str, secret: str, total: int, pages: int = PAGES_EACH) -> list[float]:
    port = int(url.rsplit(":", 1)[1])
    latencies: list[float] = []

    async def main() -> None:
        await asyncio.gather(
            *(_consumer(port, secret, s, pages, latencies) for s in _starts(total))
        )

    asyncio.run(main())
    return latencies


def raw_pages(db: Path, total: int) -> list[float]:
    """The same pages (each consumer's start, then on) read with the plain SQL query, one at a
    time: what reading 1,000 rows costs by itself."""
    latencies: list[float] = []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    for start in _starts(total):
        last = start
        for _ in range(PAGES_EACH):
            t0 = time.perf_counter()
            page = con.execute(
                "SELECT * FROM change_log WHERE position > ? ORDER BY position LIMIT ?",
                (last, PAGE),
            ).fetchall()
            latencies.append(time.perf_counter() - t0)
            last = page[-1][0]
    con.close()
    return latencies


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="sg-bench-feed-") as tmp:
        workdir = Path(tmp)
        db = workdir / "feed.db"
        t0 = time.perf_counter()
        made = in_child("bench.feed", "fill", str(db))  # its heap stays out of this process
        school, total = str(made["school"]), int(made["events"])
        filled = time.perf_counter() - t0
        load = os.getloadavg()[0]
        secret = token(db, school)
        with served(workdir, db, school) as url:
            follow_all(url, secret)  # warm the server's caches once
            events, seconds = follow_all(url, secret)
            raw_rows, raw_seconds = raw_all(db)
            concurrent(url, secret, total, WARM_UP)  # every server process warmed up
            latencies = concurrent(url, secret, total)
            raw_latencies = raw_pages(db, total)
    rate, raw_rate = events / seconds, raw_rows / raw_seconds
    p50, p99 = _pct(latencies, 0.5), _pct(latencies, 0.99)
    raw_p50, raw_p99 = _pct(raw_latencies, 0.5), _pct(raw_latencies, 0.99)
    load = max(load, os.getloadavg()[0])
    note = (
        f"{events:,} events ({SIZE} school, filled in {filled:.0f} s); "
        f"server: {WORKERS} process(es) × {THREADS} thread(s); machine load ≤ {load:.1f}"
    )
    pages = f"{len(latencies)} pages by {CONSUMERS} consumers, mean {statistics.mean(latencies) * 1000:.0f} ms"
    return [
        Row(
            entry="feed",
            metric="feed read, one consumer, pages of 1,000",
            value=rate,
            unit="events/s",
            limit=raw_rate,
            limit_label="plain SQL, same rows",
            target=">= 20,000 events/s",
            ok=rate >= 20_000 and events == total,
            note=note,
        ),
        Row(
            entry="feed",
            metric="1,000-event page p50, 20 consumers",
            value=p50,
            unit="ms",
            limit=raw_p50,
            limit_label="plain SQL, same pages",
            note=pages,
        ),
        Row(
            entry="feed",
            metric="1,000-event page p99, 20 consumers",
            value=p99,
            unit="ms",
            limit=raw_p99,
            limit_label="plain SQL, same pages",
            target="<= 150 ms",
            ok=p99 <= 150,
        ),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["fill"]:
        school_id, written = fill(Path(sys.argv[2]))
        print(json.dumps({"school": school_id, "events": written}))
