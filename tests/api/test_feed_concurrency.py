"""Concurrent writers on the real PostgreSQL: writer processes commit with random delays (inside
their transactions, after taking their positions), some roll back, while a consumer follows the
feed over HTTP with long-poll. The consumer's events are exactly the committed changes — none
missing, none twice — also when the consumer stops and a new one resumes from its saved cursor
against a restarted server.

Writers use every path that writes the change log: a pull's unit of work (records upserted and
deleted in one transaction, as ``sync.apply`` does), the local journal (``sync.journal``), and a
person's resolution of a conflict (``sync.resolutions``).
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from api import create_app, issue
from core.entities import Entity
from fixtures.serve import serve_in_thread
from mapping.model import Mark
from store import Store
from sync.journal import Journal
from sync.resolutions import resolve_conflict
from tests.api.conftest import api_settings

pytestmark = pytest.mark.postgres

SCHOOL = "sch1"
Committed = tuple[str, str, str, int]  # entity, id, op, version


def _mark(writer: int, n: int, value: str) -> Mark:
    return Mark(
        id=f"w{writer}-m{n}",
        school_id=SCHOOL,
        pupil_id=f"pupil-{n % 9}",
        lesson_id=f"lesson-{n % 13}",
        value=value,
    )


class _Abort(Exception):
    """A writer's deliberate rollback."""


def _committed(tx: Any, ops: list[tuple[str, str]]) -> list[Committed]:
    versions = tx.records.versions(Entity.MARKS, [rid for rid, _ in ops])
    return [("marks", rid, op, versions[rid]) for rid, op in ops]


def writer(url: str, number: int, rounds: int, seed: int, out: Any) -> None:
    """One writer process: ``rounds`` changes of a few records each — most in a pull's unit of
    work with a random sleep before its commit (one in six rolled back), some through the
    journal, some by resolving a conflict; what committed is put on ``out``."""
    rng = random.Random(seed)
    store = Store.open(url)
    journal = Journal(store, SCHOOL, {})
    live: list[str] = []  # ids of this writer's marks that exist
    made = 0
    try:
        for _ in range(rounds):
            kind = rng.choice(("pull", "pull", "pull", "journal", "resolution"))
            fresh = [_mark(number, made + i, rng.choice("2345")) for i in range(rng.randint(1, 4))]
            made += len(fresh)
            if kind == "journal":
                journal.write(fresh, actor=f"teacher-{number}")
                with store.read() as tx:
                    out.put(_committed(tx, [(m.id, "create") for m in fresh]))
                live += [m.id for m in fresh]
            elif kind == "resolution" and live:
                rid = rng.choice(live)
                with store.begin() as tx:
                    current = tx.records.get(Entity.MARKS, [rid])[rid]
                    value = "незач" if str(current.value) == "зач" else "зач"  # type: ignore[attr-defined]
                    incoming = {**current.content(), "value": value}
                    cid = tx.conflicts.add(
                        SCHOOL, "o7", "marks", rid, "both_changed", incoming=incoming
                    )
                resolve_conflict(store, cid, "remote", by=f"deputy-{number}")
                with store.read() as tx:
                    out.put(_committed(tx, [(rid, "update")]))
            else:
                ops = [(m.id, "create") for m in fresh]
                try:
                    with store.begin() as tx:
                        tx.records.upsert(Entity.MARKS, fresh, source="es2")
                        gone = rng.choice(live) if live and rng.random() < 0.5 else None
                        if gone is not None:
                            tx.records.delete(Entity.MARKS, [gone], source="es2")
                            ops.append((gone, "delete"))
                        committed = _committed(tx, ops)
                        time.sleep(rng.uniform(0, 0.03))  # positions taken, the commit comes late
                        if rng.random() < 1 / 6:
                            raise _Abort
                except _Abort:
                    continue
                out.put(committed)
                live += [m.id for m in fresh]
                if gone is not None:
                    live.remove(gone)
    finally:
        out.put(None)
        store.close()


@contextmanager
def _server(url: str) -> Iterator[tuple[Store, str]]:
    store = Store.open(url)
    try:
        with serve_in_thread(create_app(store, api_settings(poll_interval=0.02))) as base:
            yield store, base
    finally:
        store.close()


class Consumer:
    """Follows the feed with long-poll from ``cursor`` until told to stop and caught up."""

    def __init__(self, base: str, secret: str, cursor: str | None = None) -> None:
        self.client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {secret}"}, timeout=30
        )
        self.cursor = cursor
        self.seen: list[Committed] = []

    def run(self, done: threading.Event, *, stop_after: int | None = None) -> None:
        while True:
            params: dict[str, Any] = {"limit": 7, "wait": 0.5}
            if self.cursor is not None:
                params["cursor"] = self.cursor
            page = self.client.get("/feed/v1/changes", params=params).json()
            self.seen += [(e["entity"], e["id"], e["op"], e["version"]) for e in page["events"]]
            self.cursor = page["cursor"]
            if stop_after is not None and len(self.seen) >= stop_after:
                break
            if done.is_set() and not page["events"] and not page["more"]:
                break
        self.client.close()


def _run_writers(url: str, n: int, rounds: int) -> tuple[list[Committed], threading.Event]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=writer, args=(url, i, rounds, 1000 + i, out)) for i in range(n)]
    committed: list[Committed] = []
    done = threading.Event()

    def collect() -> None:
        finished = 0
        while finished < n:
            item = out.get(timeout=120)
            if item is None:
                finished += 1
            else:
                committed.extend(item)
        for p in procs:
            p.join(timeout=60)
        done.set()

    for p in procs:
        p.start()
    threading.Thread(target=collect, daemon=True).start()
    return committed, done


def _token(url: str) -> str:
    with Store.open(url) as store:
        store.upgrade()
        return issue(
            store, name="portal", schools=[SCHOOL], scopes=["feed"], rate=1e6, burst=10**6
        )[1]


def test_a_consumer_sees_every_committed_change_once(pg_url: str) -> None:
    secret = _token(pg_url)
    with _server(pg_url) as (_, base):
        committed, done = _run_writers(pg_url, n=4, rounds=25)
        consumer = Consumer(base, secret)
        consumer.run(done)
        assert done.wait(120)
        assert [p.exitcode for p in multiprocessing.active_children()] == []
    assert len(committed) > 100
    assert Counter(consumer.seen) == Counter(committed)
    assert len(consumer.seen) == len(set(consumer.seen))


def test_a_consumer_restarted_from_its_saved_cursor_misses_nothing(pg_url: str) -> None:
    secret = _token(pg_url)
    with _server(pg_url) as (_, base):
        committed, done = _run_writers(pg_url, n=4, rounds=25)
        first = Consumer(base, secret)
        first.run(done, stop_after=60)
        saved = first.cursor
        assert not done.is_set()  # it stopped while the writers were still at work
    with _server(pg_url) as (_, base):  # a new server process would do the same
        second = Consumer(base, secret, cursor=saved)
        second.run(done)
        assert done.wait(120)
    seen = first.seen + second.seen
    assert Counter(seen) == Counter(committed)
    assert len(seen) == len(set(seen))
