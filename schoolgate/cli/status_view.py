"""Per school × system, as ``schoolgate status`` and ``schoolgate runs --systems`` show it:
last runs, next times, the queue, conflicts, holds and pushes (:mod:`ops.status`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from ops.status import SystemStatus, gather
from schoolgate import service
from schoolgate.cli._common import console
from schoolgate.config import GatewayConfig
from store import Store
from store.types import utcnow

MAIN_COUNTS = ("created", "updated", "deleted", "sent", "rejected", "failed")
STATUS_STYLE = {"success": "green", "partial": "yellow", "held": "magenta", "failed": "red",
                "running": "blue"}  # fmt: skip


def status_text(status: str) -> str:
    style = STATUS_STYLE.get(status)
    return f"[{style}]{status}[/]" if style else status


def system_rows(config: GatewayConfig, store: Store) -> list[SystemStatus]:
    with store.read() as tx:
        return gather(tx, service.schedules(config), utcnow())


def _when(value: dt.datetime | None) -> str:
    return "—" if value is None else value.astimezone().strftime("%d.%m.%Y %H:%M:%S")


def _last(row: SystemStatus, direction: str) -> str:
    run = row.last.get(direction)
    if run is None:
        return "—"
    counts = ", ".join(f"{k} {v:,}" for k, v in run.counts.items() if k in MAIN_COUNTS and v)
    return f"{status_text(run.status)} {_when(run.finished_at or run.started_at)}" + (
        f" ({counts})" if counts else ""
    )


def _queue(row: SystemStatus) -> str:
    parts = []
    if row.running:
        parts.append(f"[blue]{row.running_direction} running[/] ({row.running.split(':')[0]})")
    for q in row.queued:
        if q.state == "running" and row.running:
            continue
        text = f"{q.direction} {q.state}"
        if q.not_before and q.not_before > utcnow():
            text += f" from {_when(q.not_before)}"
        if q.attempts:
            text += f", attempt {q.attempts + 1}"
        parts.append(text)
    return "; ".join(parts) or "—"


def table(rows: Sequence[SystemStatus]) -> Table:
    t = Table("school", "system", "last pull", "last push", "next pull", "next push", "queue",
              "conflicts", "holds", "pushes failed", title="schools × systems")  # fmt: skip
    for r in rows:
        t.add_row(
            r.school_id,
            r.system,
            _last(r, "pull"),
            _last(r, "push"),
            _when(r.next.get("pull")),
            _when(r.next.get("push")),
            _queue(r),
            f"[yellow]{r.conflicts:,}[/]" if r.conflicts else "0",
            f"[magenta]{r.holds:,}[/]" if r.holds else "0",
            f"[red]{r.pushes_failed:,}[/]" if r.pushes_failed else "0",
        )
    return t


def print_json(payload: dict[str, Any]) -> None:
    console.out(json.dumps(payload, ensure_ascii=False, indent=2), highlight=False)
