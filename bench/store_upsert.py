"""Bulk upsert of canonical marks into a SQLite store, beside raw ``sqlite3`` ``executemany``.

The raw limit writes the same rows (same columns, values already in storage form, prepared
outside the timing) into a table with the same schema, indexes and PRAGMAs through plain
``executemany`` in one transaction — no hashing, no change detection, no change log. The store's
figure includes all of that: the content hash of every record, the lookup of stored hashes, the
``INSERT … ON CONFLICT DO UPDATE``, one change-log row per record, the commit. A second upsert of
the same records (nothing changed, so nothing is written) is reported too.

Wall-clock rates are the figures; the note adds the CPU-time ratio, which other processes on a
shared machine do not disturb.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.schema import CreateIndex, CreateTable

from bench import Row, peak_rss_mb
from core.entities import Entity
from mapping.model import Mark
from store import Store
from store.bulk import BulkStatement
from store.codec import CODECS
from store.engine import SQLITE_PRAGMAS
from store.records import table_of

N = int(os.environ.get("BENCH_STORE_N", "1000000"))
#: marks upserted into PostgreSQL (a server round trip per batch makes a million take minutes)
N_PG = int(os.environ.get("BENCH_STORE_PG_N", "200000"))
VALUES = ("5", "4", "3", "2", "4/5", "зач", "осв", "5", "4", "3")
WORK = ("Контрольная работа", "Самостоятельная работа", None, "Ответ на уроке")
NAMESPACE = uuid.UUID("1b3c1a7e-0d3e-4f5a-9b77-3e0b6a1f9d20")


def _gid(kind: str, n: int) -> str:
    return uuid.uuid5(NAMESPACE, f"{kind}:{n}").hex


def build_marks(n: int) -> list[Mark]:
    """``n`` marks of one school: 1,000 pupils, a lesson per 25 marks, uuid gateway ids."""
    pupils = [_gid("pupil", i) for i in range(1000)]
    lessons = [_gid("lesson", i) for i in range(n // 25 + 1)]
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    return [
        Mark(
            id=_gid("mark", i),
            school_id="sch42",
            ext_ids={"es2": str(500_000 + i)},
            modified_at=at + dt.timedelta(seconds=i),
            pupil_id=pupils[i % 1000],
            lesson_id=lessons[i // 25],
            value=VALUES[i % 10],
            work_type=WORK[i % 4],
            weight=1 + i % 3,
        )
        for i in range(n)
    ]


def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of ``fn()``."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def raw_executemany(path: Path, marks: list[Mark]) -> tuple[float, float]:
    """Write the marks' rows with plain ``sqlite3`` ``executemany`` into an identical table."""
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        con.execute(f"PRAGMA {pragma}")
    probe = Store.open(f"sqlite:///{path}")
    with probe.engine.connect() as conn:
        dialect = conn.dialect
    probe.close()
    table = table_of(Entity.MARKS)
    con.execute(str(CreateTable(table).compile(dialect=dialect)))
    for index in table.indexes:
        con.execute(str(CreateIndex(index).compile(dialect=dialect)))

    encode = CODECS[Entity.MARKS].encoder
    rows = []
    for m in marks:
        row, digest = encode(m)
        rows.append(row | {"content_hash": digest, "version": 1, "deleted_at": None})
    stmt = BulkStatement(dialect, table, insert(table), list(rows[0]))
    params = stmt.params(rows)  # storage form, prepared outside the timing
    del rows

    def write() -> None:
        con.execute("BEGIN IMMEDIATE")
        con.executemany(stmt.sql, params)
        con.execute("COMMIT")

    timing = _timed(write)
    con.close()
    return timing


def raw_pg_executemany(store_url: str, marks: list[Mark]) -> tuple[float, float]:
    """Write the marks' rows with plain psycopg ``executemany`` into an identical table in
    ``store_url``'s schema (no other table there)."""
    probe = Store.open(store_url)
    table = table_of(Entity.MARKS)
    with probe.engine.begin() as conn:
        dialect = conn.dialect
        conn.exec_driver_sql(str(CreateTable(table).compile(dialect=dialect)))
        for index in table.indexes:
            conn.exec_driver_sql(str(CreateIndex(index).compile(dialect=dialect)))
    encode = CODECS[Entity.MARKS].encoder
    rows = []
    for m in marks:
        row, digest = encode(m)
        rows.append(row | {"content_hash": digest, "version": 1, "deleted_at": None})
    stmt = BulkStatement(dialect, table, insert(table), list(rows[0]))
    params = stmt.params(rows)
    del rows
    raw = probe.engine.raw_connection()

    def write() -> None:
        cur = raw.cursor()
        cur.executemany(stmt.sql, params)
        raw.commit()

    try:
        return _timed(write)
    finally:
        raw.close()
        probe.close()


def run_pg() -> list[Row]:
    from bench.pg import fresh_schema

    marks = build_marks(N_PG)
    with fresh_schema() as (raw_url, _):
        raw_wall, raw_cpu = raw_pg_executemany(raw_url, marks)
    with fresh_schema() as (url, _):
        store = Store.open(url)
        store.upgrade()
        counts = []

        def upsert() -> None:
            with store.begin() as tx:
                counts.append(tx.records.upsert(Entity.MARKS, marks, source="bench", run_id=1))

        up_wall, up_cpu = _timed(upsert)
        again_wall, _ = _timed(upsert)
        store.close()
    first, second = counts
    assert first.created == N_PG and second.unchanged == N_PG
    raw_rate, rate = N_PG / raw_wall, N_PG / up_wall
    return [
        Row(
            entry="store_upsert",
            metric=f"upsert {N_PG:,} new marks (PostgreSQL; hash, diff, change log)",
            value=rate,
            unit="rec/s",
            limit=raw_rate,
            limit_label="psycopg executemany, same rows",
            note=f"{up_wall:.1f} s vs raw {raw_wall:.1f} s; CPU-time ratio {raw_cpu / up_cpu:.2f}",
        ),
        Row(
            entry="store_upsert",
            metric=f"upsert the same {N_PG:,} marks again, PostgreSQL (writes nothing)",
            value=N_PG / again_wall,
            unit="rec/s",
            limit=raw_rate,
            limit_label="psycopg executemany, same rows",
            note=f"{again_wall:.1f} s",
        ),
    ]


def run() -> list[Row]:
    return run_sqlite() + run_pg()


def run_sqlite() -> list[Row]:
    marks = build_marks(N)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        raw_wall, raw_cpu = raw_executemany(Path(tmp) / "raw.db", marks)
        store = Store.open(f"sqlite:///{tmp}/store.db")
        store.upgrade()
        counts = []

        def upsert() -> None:
            with store.begin() as tx:
                counts.append(tx.records.upsert(Entity.MARKS, marks, source="bench", run_id=1))

        up_wall, up_cpu = _timed(upsert)
        again_wall, _ = _timed(upsert)
        with store.read() as tx:
            logged = len(tx.changes.read(0, limit=N + 10))
        store.close()
    first, second = counts
    assert first.created == N and second.unchanged == N and logged == N
    raw_rate, rate = N / raw_wall, N / up_wall
    return [
        Row(
            entry="store_upsert",
            metric=f"upsert {N:,} new marks (SQLite; hash, diff, change log)",
            value=rate,
            unit="rec/s",
            limit=raw_rate,
            limit_label="sqlite3 executemany, same rows",
            target="ratio >= 0.5",
            ok=rate / raw_rate >= 0.5,
            note=(
                f"{up_wall:.1f} s vs raw {raw_wall:.1f} s; CPU-time ratio {raw_cpu / up_cpu:.2f}; "
                f"peak {peak_rss_mb():.0f} MB"
            ),
        ),
        Row(
            entry="store_upsert",
            metric=f"upsert the same {N:,} marks again (unchanged: writes nothing)",
            value=N / again_wall,
            unit="rec/s",
            limit=raw_rate,
            limit_label="sqlite3 executemany, same rows",
            note=f"{again_wall:.1f} s",
        ),
    ]
