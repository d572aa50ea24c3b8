"""Bench: the АСИОУ full-year package of the large school end to end — fetched from the
simulator, parsed, mapped, resolved, planned and applied into a fresh SQLite store as one atomic
unit (``sync.jobs.pull``) — beside the raw ``lxml.etree.iterparse`` time of the same package
(downloaded first, untimed; end events, record elements counted and cleared) measured in the
same run. Then the peak memory of the syncing process on the large and the xlarge school.

Targets (issue 19): ≥ 25,000 records/s end to end; peak ≤ 150 MB; xlarge ≤ 1.2× large.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench import Row, flat_memory, xlarge
from bench._server import in_child, served

SEED = 1
SCHOOL = "760215"
CREDS = {"login": "gateway", "password": "secret"}
SERVER = (
    "import sys; from fixtures.asiou import build_app; from fixtures.serve import serve_forever; "
    "serve_forever(build_app(seed=int(sys.argv[1]), size=sys.argv[2]), port=int(sys.argv[3]))"
)
RATE = 25_000.0
PEAK_MB = 150.0


def measure_sync(url: str, workdir: str) -> dict[str, Any]:
    from bench._sync import pull_once

    return pull_once("asiou", url, workdir, remote=SCHOOL, credentials=dict(CREDS))


def measure_raw(url: str, workdir: str) -> dict[str, Any]:
    from bench.asiou_parse import _raw

    path = str(Path(workdir) / "package.xml")
    with (
        httpx.Client(timeout=600) as http,
        http.stream(
            "GET",
            f"{url}/asiou/exchange/export",
            params={"school": SCHOOL},
            auth=(CREDS["login"], CREDS["password"]),
        ) as resp,
        open(path, "wb") as f,
    ):
        resp.raise_for_status()
        for chunk in resp.iter_bytes(1 << 16):
            f.write(chunk)
    out = dict(_raw(path))
    out["mb"] = Path(path).stat().st_size / 2**20
    return out


def _size(size: str) -> tuple[dict[str, Any], dict[str, Any]]:
    ready = lambda url: httpx.get(f"{url}/asiou/exchange/export", timeout=2)  # noqa: E731
    with (
        served(SERVER, str(SEED), size, ready=ready) as url,
        tempfile.TemporaryDirectory() as workdir,
    ):
        raw = in_child("bench.asiou_sync", "raw", url, workdir)
        sync = in_child("bench.asiou_sync", "sync", url, workdir)
    return raw, sync


def run() -> list[Row]:
    raw, sync = _size("large")
    big = _size("xlarge")[1] if xlarge() else None
    entry = "asiou_sync"
    rate = sync["records"] / sync["seconds"]
    raw_rate = raw["records"] / raw["seconds"]
    rows = [
        Row(
            entry,
            f"full-year package, large, end to end ({sync['records']:,} records)",
            rate,
            "rec/s",
            limit=raw_rate,
            limit_label="raw lxml iterparse of the package",
            target=f">= {RATE:,.0f} rec/s",
            ok=rate >= RATE and sync["status"] == "success",
            note=f"{sync['seconds']:.1f} s vs iterparse {raw['seconds']:.1f} s "
            f"({raw['mb']:.0f} MB package); CPU {sync['cpu_s']:.1f} s",
        ),
        Row(
            entry,
            "peak memory of the syncing process, large",
            sync["peak_mb"],
            "MB",
            limit=raw["rss"],
            limit_label="raw iterparse process",
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
    kind, url, workdir = sys.argv[1:4]
    fn = measure_sync if kind == "sync" else measure_raw
    print(json.dumps(fn(url, workdir), ensure_ascii=False))
