"""Benchmarks (``make bench``): each entry measures a figure beside the raw limit in the same run.

An entry is a module ``bench/<name>.py`` listed in :data:`ENTRIES` with a function
``run() -> list[Row]``. Each entry runs in its own process so that peak memory is its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: module names under bench/, in the order they run
ENTRIES: list[str] = [
    "es2_pull",
    "o7_pull",
    "asiou_parse",
    "sync_full",
    "es2_marks",
    "asiou_sync",
    "o7_sync",
    "sync_pg",
    "store_upsert",
    "feed",
    "reconcile",
    "ops",
    "console",
]


@dataclass(frozen=True)
class Row:
    """One line of the table: a measured figure beside the raw limit and the issue's bar."""

    entry: str
    metric: str
    value: float
    unit: str
    limit: float | None = None  # the raw limit measured in the same run (same unit)
    limit_label: str = ""
    target: str = ""  # the bar the issue sets, e.g. "ratio >= 0.5"
    ok: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.limit in (None, 0):
            return None
        return self.value / self.limit

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def xlarge() -> bool:
    """Whether the end-to-end entries also run the xlarge school (memory flatness);
    ``SCHOOLGATE_BENCH_XLARGE=0`` skips it (a quicker run)."""
    import os

    return os.environ.get("SCHOOLGATE_BENCH_XLARGE", "1") != "0"


#: the memory bar of the end-to-end entries: xlarge within this factor of large
FLAT = 1.2


def flat_memory(
    entry: str, what: str, large_mb: float, xlarge_mb: float, *, finished: bool, note: str
) -> Row:
    """The xlarge school's peak memory beside the large one's (the bar: flat, ≤ ``FLAT`` ×)."""
    return Row(
        entry,
        f"peak memory of {what}, xlarge",
        xlarge_mb,
        "MB",
        limit=large_mb,
        limit_label="large",
        target=f"<= {FLAT}x large",
        ok=xlarge_mb <= FLAT * large_mb and finished,
        note=note,
    )
