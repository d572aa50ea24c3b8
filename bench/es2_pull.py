"""Full ES2 pull (all entities, a whole year) from the simulator on loopback to canonical records.

The simulator runs in its own process (its memory is not ours). Each measurement runs in a fresh
child process so that its peak RSS is its own:

* ``connector``: connector pages → ``mapping.es2.to_canonical`` (records counted, then discarded);
* ``raw``: the same pages fetched with plain httpx and parsed with ``json`` only (the limit).

Rows: records/s for both (large school), peak RSS for large and xlarge; memory is "flat" when
the xlarge peak stays within 1.3× the large one.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx

from bench import Row, peak_rss_mb
from bench._server import in_child, served

SEED = 1
PAGE = 1000
CREDS = {"client_id": "schoolgate", "client_secret": "secret"}
SERVER = (
    "import sys; from fixtures.es2 import build_app; from fixtures.serve import serve_forever; "
    "serve_forever(build_app(seed=int(sys.argv[1]), size=sys.argv[2], fault_rate=0.0), "
    "port=int(sys.argv[3]))"
)


def simulator(size: str) -> AbstractContextManager[str]:
    return served(
        SERVER,
        str(SEED),
        size,
        ready=lambda url: httpx.post(
            f"{url}/api/v2/auth/token", json={**CREDS, "school_id": 42}, timeout=2
        ),
    )


def _year(url: str) -> tuple[dt.date, dt.date]:
    """The academic year as the school's periods span it."""
    with httpx.Client(base_url=url, timeout=60) as http:
        tok = http.post("/api/v2/auth/token", json={**CREDS, "school_id": 42}).json()
        auth = {"Authorization": f"Bearer {tok['data']['access_token']}"}
        periods = http.get(
            "/api/v2/schools/42/periods", params={"limit": PAGE}, headers=auth
        ).json()
    starts = [dt.date.fromisoformat(p["start"]) for p in periods["data"]]
    ends = [dt.date.fromisoformat(p["end"]) for p in periods["data"]]
    return min(starts), max(ends)


def measure_connector(url: str) -> dict[str, Any]:
    from connectors.es2 import ES2Connector, ES2Options
    from core.entities import PULL_ORDER, Entity
    from mapping.es2 import to_canonical
    from mapping.profile import load_profile

    start, end = _year(url)
    profile = load_profile("es2")
    conn = ES2Connector(
        httpx.Client(base_url=url, timeout=60),
        school="42",
        credentials=CREDS,
        options=ES2Options(page_size=PAGE, year_start=start, year_end=end),
    )
    count = errors = 0
    t0 = time.perf_counter()
    for entity in PULL_ORDER:
        if entity is Entity.ENROLMENTS:
            continue
        for page in conn.pull(entity, None):
            for wire in page.records:
                try:
                    to_canonical(entity, wire, profile=profile, school_id="sch")
                except Exception:
                    errors += 1
                    continue
                count += 1
    seconds = time.perf_counter() - t0
    conn.close()
    return {"records": count, "errors": errors, "seconds": seconds, "peak_mb": peak_rss_mb()}


def raw_pages(
    url: str, timeout: float = 60, only: frozenset[str] | None = None
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Every page of a full ES2 read (of the ``only`` paths, if given), fetched with plain httpx
    and parsed with ``json``: ``(path, items)``. The raw limit the connector is measured
    against."""
    for path, _, body in _raw_reads(url, timeout, only):
        yield path, body["data"]


def raw_bodies(url: str, timeout: float = 60) -> Iterator[tuple[str, bytes]]:
    """Every page of a full ES2 read as the bytes the simulator sent: ``(path, content)``."""
    for path, content, _ in _raw_reads(url, timeout):
        yield path, content


def _raw_reads(
    url: str, timeout: float, only: frozenset[str] | None = None
) -> Iterator[tuple[str, bytes, dict[str, Any]]]:
    """``(path, content, parsed body)`` of every page of a full read (of the ``only`` paths,
    if given); each parsed once."""
    from connectors.es2 import windows

    start, end = _year(url)
    with httpx.Client(base_url=url, timeout=timeout) as http:
        tok = http.post("/api/v2/auth/token", json={**CREDS, "school_id": 42}).json()
        auth = {"Authorization": f"Bearer {tok['data']['access_token']}"}
        reads: list[tuple[str, dict[str, str]]] = [
            (p, {}) for p in ("periods", "subjects", "teachers", "groups", "pupils", "subgroups")
        ]
        reads += [
            ("lessons", {"start": a.isoformat(), "end": b.isoformat()})
            for a, b in windows(start, end, 92)
        ]
        reads += [(p, {}) for p in ("marks", "controlmarks", "attendance")]
        for path, params in reads:
            if only is not None and path not in only:
                continue
            cursor = None
            while True:
                q: dict[str, Any] = {**params, "limit": PAGE}
                if cursor:
                    q["cursor"] = cursor
                content = http.get(f"/api/v2/schools/42/{path}", params=q, headers=auth).content
                body = json.loads(content)
                yield path, content, body
                cursor = body["next_cursor"]
                if not cursor:
                    break


def measure_raw(url: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    count = sum(len(items) for _, items in raw_pages(url))
    return {
        "records": count,
        "errors": 0,
        "seconds": time.perf_counter() - t0,
        "peak_mb": peak_rss_mb(),
    }


def _child(kind: str, url: str) -> dict[str, Any]:
    return in_child("bench.es2_pull", kind, url)


def run() -> list[Row]:
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for size in ("large", "xlarge"):
        with simulator(size) as url:
            results[size] = {"raw": _child("raw", url), "connector": _child("connector", url)}
    rows: list[Row] = []
    for size in ("large", "xlarge"):
        conn, raw = results[size]["connector"], results[size]["raw"]
        rate = conn["records"] / conn["seconds"]
        raw_rate = raw["records"] / raw["seconds"]
        rows.append(
            Row(
                entry="es2_pull",
                metric=f"full pull {size}: records/s",
                value=rate,
                unit="rec/s",
                limit=raw_rate,
                limit_label="httpx + json only",
                note=f"{conn['records']:,} records, {conn['errors']} mapping errors, "
                f"{conn['seconds']:.1f} s",
                ok=conn["records"] == raw["records"] and conn["errors"] == 0,
            )
        )
    large = results["large"]["connector"]["peak_mb"]
    xlarge = results["xlarge"]["connector"]["peak_mb"]
    rows.append(
        Row(
            entry="es2_pull",
            metric="peak RSS large",
            value=large,
            unit="MB",
            limit=results["large"]["raw"]["peak_mb"],
            limit_label="raw reader",
        )
    )
    rows.append(
        Row(
            entry="es2_pull",
            metric="peak RSS xlarge (school doubled)",
            value=xlarge,
            unit="MB",
            limit=large,
            limit_label="large",
            target="≤ 1.3 × large",
            ok=xlarge <= 1.3 * large,
        )
    )
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("raw", "connector"):
        fn = measure_raw if sys.argv[1] == "raw" else measure_connector
        print(json.dumps(fn(sys.argv[2])))
    else:
        for row in run():
            print(json.dumps(row.to_json(), ensure_ascii=False))
