"""Bench: the full ES2 sync on PostgreSQL beside SQLite, in the same run, at three school sizes.

For each size (small, large, xlarge; ``SCHOOLGATE_BENCH_SCALES`` may name others) one simulator
serves the school and two fresh stores are filled from it, one after the other, each in its own
process: a new SQLite file and a new PostgreSQL schema. Printed: each store's time and rate, the
PostgreSQL time beside SQLite's (target at the large school: ≤ 1.5 ×), and the time per record
across the sizes (target: the slowest within 1.3 × the fastest — time grows with the records, not
with their square; issue 11).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from bench import Row
from bench._server import in_child
from bench.pg import fresh_schema
from bench.sync_full import simulator

SCALES = os.environ.get("SCHOOLGATE_BENCH_SCALES", "small,large,xlarge").split(",")


def _sync(url: str, workdir: str, store_url: str = "") -> dict[str, Any]:
    args = [url, workdir] + ([store_url] if store_url else [])
    return in_child("bench.sync_full", "sync", *args)


def run() -> list[Row]:
    rows: list[Row] = []
    per_record: dict[str, dict[str, float]] = {"sqlite": {}, "postgresql": {}}
    for size in SCALES:
        with simulator(size) as url, tempfile.TemporaryDirectory() as workdir:
            lite = _sync(url, workdir)
            with fresh_schema() as (store_url, _):
                pg = _sync(url, workdir, store_url)
        n = pg["records"]
        for name, out in (("sqlite", lite), ("postgresql", pg)):
            per_record[name][size] = out["full_s"] / out["records"] * 1e6
        ratio = pg["full_s"] / lite["full_s"]
        rows.append(
            Row(
                "sync_pg",
                f"full ES2 sync, {size} school ({n:,} records), PostgreSQL",
                pg["full_s"],
                "s",
                limit=lite["full_s"],
                limit_label="SQLite, same school, same run",
                target="<= 1.5 x SQLite" if size == "large" else "",
                ok=(ratio <= 1.5 and pg["status"] == "success") if size == "large" else None,
                note=(
                    f"{n / pg['full_s']:,.0f} rec/s vs {n / lite['full_s']:,.0f}; "
                    f"re-sync 1% {pg['inc_s']:.1f} s vs {lite['inc_s']:.1f} s; "
                    f"peak {pg['peak_mb']:.0f} MB"
                ),
            )
        )
    if len(SCALES) > 1:
        for name, times in per_record.items():
            spread = max(times.values()) / min(times.values())
            rows.append(
                Row(
                    "sync_pg",
                    f"time per record across sizes, {name}",
                    max(times.values()),
                    "µs/rec",
                    limit=min(times.values()),
                    limit_label="the fastest size",
                    target="<= 1.3 x",
                    ok=spread <= 1.3,
                    note=", ".join(f"{s} {t:.0f} µs" for s, t in times.items()),
                )
            )
    return rows
