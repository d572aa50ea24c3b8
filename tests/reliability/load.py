"""A load of concurrent feed API consumers: ``clients`` asyncio tasks, each with its own
``httpx.AsyncClient`` and token, reading for ``seconds`` what a regional portal reads — the
change feed page after page from its cursor, and snapshot pages — and timing every answer."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

SNAPSHOTS = ("pupils", "lessons", "marks", "attendance", "classes")


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    events: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors.total()

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def line(self, clients: int) -> str:
        rps = len(self.latencies) / self.seconds if self.seconds else 0.0
        median = statistics.median(self.latencies) if self.latencies else float("nan")
        return (
            f"{clients} clients × {self.seconds:.0f} s: {self.requests} requests "
            f"({rps:.0f}/s), {self.errors.total()} errors, {self.events} feed events; "
            f"p50 {median * 1000:.1f} ms, p99 {self.percentile(99) * 1000:.1f} ms, "
            f"max {max(self.latencies, default=0) * 1000:.1f} ms"
        )


#: a consumer gives up on an answer after this long (an error of the run)
TIMEOUT_S = 60.0


async def _consumer(
    client: httpx.AsyncClient, school: str, until: float, rng: random.Random, out: LoadResult
) -> None:
    cursor: str | None = None
    while time.monotonic() < until:
        if rng.random() < 0.6:
            params: dict[str, Any] = {"limit": 500}
            if cursor:
                params["cursor"] = cursor
            path = "/feed/v1/changes"
        else:
            path, params = f"/snapshot/v1/{school}/{rng.choice(SNAPSHOTS)}", {"limit": 200}
        t0 = time.perf_counter()
        try:
            r = await client.get(path, params=params)
        except httpx.HTTPError as exc:
            out.errors[type(exc).__name__] += 1
            continue
        elapsed = time.perf_counter() - t0
        if r.status_code != 200:
            out.errors[str(r.status_code)] += 1
            continue
        out.latencies.append(elapsed)
        if path.startswith("/feed"):
            page = r.json()
            out.events += len(page["events"])
            cursor = page["cursor"] if page["more"] else cursor or page["cursor"]


async def _load(
    url: str, secrets: list[str], school: str, clients: int, seconds: float
) -> LoadResult:
    out = LoadResult()
    # every client (its connection pool, its TLS context) made before the clock starts
    made = [
        httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {secrets[i % len(secrets)]}"},
            timeout=httpx.Timeout(TIMEOUT_S),
        )
        for i in range(clients)
    ]
    try:
        until = time.monotonic() + seconds
        t0 = time.perf_counter()
        await asyncio.gather(
            *(_consumer(c, school, until, random.Random(i), out) for i, c in enumerate(made))
        )
        out.seconds = time.perf_counter() - t0
    finally:
        for c in made:
            await c.aclose()
    return out


def run_load(url: str, secrets: list[str], school: str, clients: int, seconds: float) -> LoadResult:
    return asyncio.run(_load(url, secrets, school, clients, seconds))


def main(argv: list[str]) -> None:
    """``python -m tests.reliability.load URL SCHOOL CLIENTS SECONDS SECRET…``: the load from a
    process of its own (so that the writer's work does not starve the clients' event loop);
    prints the result as JSON."""
    import json

    url, school, clients, seconds, *secrets = argv
    result = run_load(url, secrets, school, int(clients), float(seconds))
    print(
        json.dumps(
            {
                "latencies": result.latencies,
                "errors": dict(result.errors),
                "seconds": result.seconds,
                "events": result.events,
            }
        )
    )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
