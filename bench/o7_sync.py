"""Bench: the О7 full-year pull of the large school end to end (31-day windows per class,
mapped, resolved, planned and applied into a fresh SQLite store by ``sync.jobs.pull``) beside
the raw RPC reads of the same calls (httpx + ``json``, :func:`bench.o7_pull.measure_raw`)
measured in the same run; then the peak memory of the syncing process, large and xlarge.

Targets (issue 19): peak ≤ 150 MB; xlarge ≤ 1.2× large.
"""

from __future__ import annotations

import json
import sys
import tempfile
from typing import Any

import httpx

from bench import Row, flat_memory, xlarge
from bench._server import in_child
from bench.o7_pull import LOGIN, _school, _year, simulator

PEAK_MB = 150.0


def measure_sync(url: str, workdir: str) -> dict[str, Any]:
    from bench._sync import pull_once

    with httpx.Client(base_url=url, timeout=60) as http:
        http.post("/auth/login", data=LOGIN)
        start, end = _year(http, _school())
    return pull_once(
        "o7",
        url,
        workdir,
        remote=_school(),
        credentials={"login": LOGIN["login_login"], "password": LOGIN["login_password"]},
        options={
            "year_start": start.isoformat(),
            "year_end": end.isoformat(),
            "today": end.isoformat(),
        },
    )


def _size(size: str) -> tuple[dict[str, Any], dict[str, Any]]:
    with simulator(size) as url, tempfile.TemporaryDirectory() as workdir:
        raw = in_child("bench.o7_pull", "raw", url)
        sync = in_child("bench.o7_sync", url, workdir)
    return raw, sync


def run() -> list[Row]:
    raw, sync = _size("large")
    big = _size("xlarge")[1] if xlarge() else None
    entry = "o7_sync"
    rate = sync["records"] / sync["seconds"]
    raw_rate = raw["records"] / raw["seconds"]
    rows = [
        Row(
            entry,
            f"full-year pull, large, end to end ({sync['records']:,} records)",
            rate,
            "rec/s",
            limit=raw_rate,
            limit_label="same RPC calls, httpx + json",
            target="beside the raw reads",
            ok=sync["status"] == "success",
            note=f"{sync['seconds']:.1f} s vs raw {raw['seconds']:.1f} s "
            f"({raw['records']:,} items); CPU {sync['cpu_s']:.1f} s",
        ),
        Row(
            entry,
            "peak memory of the syncing process, large",
            sync["peak_mb"],
            "MB",
            limit=raw["peak_mb"],
            limit_label="raw reader",
            target=f"<= {PEAK_MB:.0f} MB",
            ok=sync["peak_mb"] <= PEAK_MB,
        ),
    ]
    if big is None:
        return rows
    return [
        *rows,
        flat_memory(
            entry,
            "the syncing process",
            sync["peak_mb"],
            big["peak_mb"],
            finished=big["status"] == "success",
            note=f"{big['records']:,} records in {big['seconds']:.1f} s",
        ),
    ]


if __name__ == "__main__":
    print(json.dumps(measure_sync(sys.argv[1], sys.argv[2]), ensure_ascii=False))
