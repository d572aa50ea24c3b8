"""``python -m bench [entry ...]``: run benchmark entries, each in a fresh process; print a table."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from rich.console import Console
from rich.table import Table

from bench import ENTRIES, Row


def _run_entry(name: str) -> list[Row]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench._one", name], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        return [
            Row(entry=name, metric="FAILED", value=0, unit="", ok=False, note=proc.stderr[-200:])
        ]
    rows = []
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            rows.append(Row(**json.loads(line)))
    return rows


def main(argv: list[str]) -> int:
    names = argv or ENTRIES
    unknown = [n for n in names if n not in ENTRIES]
    if unknown:
        print(
            f"unknown entries: {', '.join(unknown)}; known: {', '.join(ENTRIES)}", file=sys.stderr
        )
        return 2
    console = Console(width=max(160, Console().width))
    table = Table(
        "entry", "metric", "value", "raw limit (same run)", "ratio", "target", "ok", "note"
    )
    failed = False
    for name in names:
        t0 = time.perf_counter()
        console.print(f"[dim]running {name}…[/]")
        for r in _run_entry(name):
            ratio = r.ratio
            table.add_row(
                r.entry,
                r.metric,
                f"{r.value:,.2f} {r.unit}",
                f"{r.limit:,.2f} {r.unit} ({r.limit_label})" if r.limit is not None else "",
                f"{ratio:.2f}" if ratio is not None else "",
                r.target,
                {True: "yes", False: "[red]NO[/]", None: ""}[r.ok],
                r.note,
            )
            failed |= r.ok is False
        console.print(f"[dim]{name} took {time.perf_counter() - t0:.1f} s[/]")
    console.print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
