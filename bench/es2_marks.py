"""Bench: the ES2 marks phase alone (roster, lessons and the rest synced first, untimed), large
school, beside the raw limit measured in the same run: the same marks pages fetched with httpx,
parsed with ``json`` and inserted with ``sqlite3.executemany``. Then the peak memory of the
whole syncing process on the large and the xlarge school (issue 19: ≤ 150 MB, and flat).

Targets (issue 19): marks phase ≥ 0.35 of the raw limit; peak ≤ 150 MB; xlarge ≤ 1.2× large.
"""

from __future__ import annotations

import json
import sys
import tempfile
from typing import Any

from bench import Row, flat_memory, xlarge
from bench._server import in_child
from bench.es2_pull import CREDS, PAGE, _year
from bench.sync_full import simulator

MARKS_RATIO = 0.35
PEAK_MB = 150.0


def measure(url: str, workdir: str) -> dict[str, Any]:
    from bench._sync import pull_once
    from core.entities import Entity

    start, end = _year(url)
    rest = frozenset(e.value for e in Entity) - {Entity.MARKS.value}
    return pull_once(
        "es2",
        url,
        workdir,
        remote="42",
        credentials=dict(CREDS),
        options={
            "page_size": PAGE,
            "year_start": start.isoformat(),
            "year_end": end.isoformat(),
            "today": end.isoformat(),
        },
        entities=rest,
        then=frozenset({Entity.MARKS.value}),
    )


def _size(size: str) -> tuple[dict[str, Any], dict[str, Any]]:
    with simulator(size) as url, tempfile.TemporaryDirectory() as workdir:
        raw = in_child("bench.sync_full", "raw", url, workdir, "marks")
        sync = in_child("bench.es2_marks", url, workdir)
    return raw, sync


def run() -> list[Row]:
    raw, sync = _size("large")
    big = _size("xlarge")[1] if xlarge() else None
    entry = "es2_marks"
    rate = sync["then_records"] / sync["then_seconds"]
    raw_rate = raw["records"] / raw["seconds"]
    rows = [
        Row(
            entry,
            f"marks phase, large school ({sync['then_records']:,} marks)",
            rate,
            "rec/s",
            limit=raw_rate,
            limit_label="httpx+json+sqlite3.executemany, marks only",
            target=f"ratio >= {MARKS_RATIO}",
            ok=rate / raw_rate >= MARKS_RATIO and sync["then_status"] == "success",
            note=f"{sync['then_seconds']:.1f} s vs raw {raw['seconds']:.1f} s; "
            f"CPU {sync['then_cpu_s']:.1f} s",
        ),
        Row(
            entry,
            "peak memory of the full ES2 sync, large",
            sync["peak_mb"],
            "MB",
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
            "the full ES2 sync",
            sync["peak_mb"],
            big["peak_mb"],
            finished=big["then_status"] == "success",
            note=f"{big['records'] + big['then_records']:,} records",
        ),
    ]


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], sys.argv[2]), ensure_ascii=False))
