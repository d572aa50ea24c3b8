"""АСИОУ: parse a full-year export package of a large school as a stream.

Each step runs in its own process so that its peak memory is its own: ``write`` generates the
school and writes its full export package (the simulator's writer) to a temp file; ``raw`` runs
bare ``lxml.etree.iterparse`` over the file (end events, counting record elements, clearing
them); ``connector`` runs the connector's parsing path over the same bytes — package bytes →
integrity-checked atomic pages of wire records (``connectors.asiou.iter_pages``), without the
mapping to canonical records, which is measured apart as ``map``. Sizes: large, then xlarge
(twice as big) to show that peak memory does not grow with the package.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench import Row

SIZES = ("large", "xlarge")
RSS_LIMIT_MB = 200.0
TARGET_RATIO = 0.6
CHUNK = 64 * 1024


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _write(size: str, path: str) -> dict[str, float]:
    from fixtures.asiou.package import export_package
    from fixtures.asiou.state import SimState
    from fixtures.asiou.wire import MSK, ORDER
    from fixtures.generator import generate_school

    school = generate_school(1, size)
    state = SimState(school)
    header = {
        "Версия": "2.3",
        "Школа": state.code,
        "Сформирован": state.created.astimezone(MSK).isoformat(),
        "Ревизия": "1",
        "Полный": "1",
    }
    sections = ((e, state.records(e, None)) for e in ORDER)
    with open(path, "wb") as f:
        for chunk in export_package(header, school.year.name, sections):
            f.write(chunk)
    return {"records": float(state.base_count()), "mb": os.path.getsize(path) / 2**20}


def _file_chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def _raw(path: str) -> dict[str, float]:
    from lxml import etree

    from connectors.asiou import RECORD_ELEMENTS

    tags = set(RECORD_ELEMENTS)
    t0 = time.perf_counter()
    count = 0
    with open(path, "rb") as f:
        for _, elem in etree.iterparse(f, events=("end",)):
            if elem.tag in tags:
                count += 1
            elem.clear()
    return {"seconds": time.perf_counter() - t0, "records": float(count), "rss": _rss_mb()}


def _connector(path: str) -> dict[str, float]:
    from connectors.asiou import iter_pages

    t0 = time.perf_counter()
    count = 0
    for page in iter_pages(_file_chunks(path)):
        count += len(page.records)
    return {"seconds": time.perf_counter() - t0, "records": float(count), "rss": _rss_mb()}


def _map(path: str) -> dict[str, float]:
    """Wire → canonical (mapping with validation) for the first 200,000 records."""
    from connectors.asiou import iter_pages
    from mapping.asiou import to_canonical

    t0 = time.perf_counter()
    count = 0
    for page in iter_pages(_file_chunks(path)):
        for wire in page.records:
            to_canonical(page.entity, wire, school_id="s")
            count += 1
        if count >= 200_000:
            break
    return {"seconds": time.perf_counter() - t0, "records": float(count), "rss": _rss_mb()}


STEPS: dict[str, Callable[..., dict[str, float]]] = {
    "write": _write,
    "raw": _raw,
    "connector": _connector,
    "map": _map,
}


def _step(name: str, *args: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.asiou_parse", name, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _rows(size: str, path: str) -> list[Row]:
    written = _step("write", size, path)
    mb = written["mb"]
    raws, conns = [], []
    for _ in range(3):  # interleaved, best of three: the machine is shared
        raws.append(_step("raw", path))
        conns.append(_step("connector", path))
    raw = min(raws, key=lambda r: r["seconds"])
    conn = min(conns, key=lambda r: r["seconds"])
    mapped = _step("map", path)
    ratio = raw["seconds"] / conn["seconds"]
    entry = "asiou_parse"
    return [
        Row(
            entry,
            f"{size}: package size",
            mb,
            "MB",
            note=f"{int(written['records']):,} records, full year, windows-1251",
        ),
        Row(
            entry,
            f"{size}: parse → wire records",
            mb / conn["seconds"],
            "MB/s",
            limit=mb / raw["seconds"],
            limit_label="raw lxml iterparse",
            target=f"ratio >= {TARGET_RATIO}",
            ok=ratio >= TARGET_RATIO,
            note=f"{conn['records'] / conn['seconds']:,.0f} rec/s vs "
            f"{raw['records'] / raw['seconds']:,.0f} rec/s raw",
        ),
        Row(
            entry,
            f"{size}: peak RSS of the parse",
            conn["rss"],
            "MB",
            limit=raw["rss"],
            limit_label="raw iterparse process",
            target=f"< {RSS_LIMIT_MB:.0f} MB",
            ok=conn["rss"] < RSS_LIMIT_MB,
        ),
        Row(
            entry,
            f"{size}: wire → canonical (mapping)",
            mapped["records"] / mapped["seconds"],
            "rec/s",
            note=f"first {int(mapped['records']):,} records; peak {mapped['rss']:.0f} MB",
        ),
    ]


def run() -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="asiou-bench-") as tmp:
        for size in SIZES:
            path = str(Path(tmp) / f"{size}.xml")
            rows.extend(_rows(size, path))
            os.unlink(path)
    return rows


if __name__ == "__main__":
    print(json.dumps(STEPS[sys.argv[1]](*sys.argv[2:])))
