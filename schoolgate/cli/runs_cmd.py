"""``schoolgate runs [ID]``: the sync runs with every count, pulls and pushes each in its own
words; one run's counts per entity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from schoolgate.cli._common import (
    ConfigOpt,
    LimitOpt,
    SchoolOpt,
    SystemOpt,
    config_or_default,
    console,
    more_line,
    open_store,
    reported_errors,
)
from store import Paging, Run, RunFilter
from sync.counts import OUTCOMES, PUSH_OUTCOMES
from sync.runs import RunReport

#: the columns always shown, per direction; any other outcome a run counted is added after them
PULL_COLUMNS = ("created", "updated", "deleted", "unchanged", "conflicts", "rejected", "waiting")
PUSH_COLUMNS = ("sent", "created", "updated", "deleted", "duplicate", "rejected", "awaiting",
                "failed")  # fmt: skip
VOCABULARY = {"pull": OUTCOMES, "push": PUSH_OUTCOMES}
LABELS: dict[str, str] = {}
STATUS_STYLE = {
    "success": "green",
    "partial": "yellow",
    "held": "magenta",
    "failed": "red",
    "running": "blue",
}


@dataclass(frozen=True)
class RunView:
    """A run as a listing shows it: from the store, or a report just made."""

    id: str
    school_id: str
    system: str
    direction: str
    status: str
    started: str
    seconds: float | None
    counts: Mapping[str, Mapping[str, int]]
    error: str | None

    @classmethod
    def of_run(cls, run: Run) -> RunView:
        secs = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        return cls(
            str(run.id),
            run.school_id,
            run.system,
            run.direction,
            run.status,
            run.started_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
            secs,
            run.counts,
            run.error,
        )

    @classmethod
    def of_report(cls, report: RunReport) -> RunView:
        return cls(
            str(report.run_id or "dry"),
            report.school_id,
            report.system,
            report.direction,
            report.status,
            "",
            report.duration,
            report.counts.as_dict(),
            report.error,
        )

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.counts.values():
            for outcome, n in row.items():
                out[outcome] = out.get(outcome, 0) + int(n)
        return out


def columns(direction: str, views: Iterable[RunView]) -> list[str]:
    """The always-shown outcomes of ``direction`` and any other one the runs counted."""
    base = PUSH_COLUMNS if direction == "push" else PULL_COLUMNS
    seen = {o for v in views for o in v.totals()}
    known = [o for o in VOCABULARY.get(direction, ()) if o in seen and o not in base]
    other = sorted(seen - set(base) - set(known))
    return [*base, *known, *other]


def status_text(status: str) -> str:
    style = STATUS_STYLE.get(status)
    return f"[{style}]{status}[/]" if style else status


def run_table(direction: str, views: Sequence[RunView], *, title: str) -> Table:
    outcomes = columns(direction, views)
    table = Table("run", "school", "system", "status", title=title)
    if any(v.started for v in views):
        table.add_column("started", no_wrap=True)
    for outcome in outcomes:
        table.add_column(LABELS.get(outcome, outcome), justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("error")
    for v in views:
        totals = v.totals()
        cells = [v.id, v.school_id, v.system, status_text(v.status)]
        if any(x.started for x in views):
            cells.append(v.started)
        cells += [f"{totals.get(o, 0):,}" for o in outcomes]
        cells.append("…" if v.seconds is None else f"{v.seconds:.1f}")
        cells.append(escape(v.error or ""))
        table.add_row(*cells)
    return table


def print_runs(views: Sequence[RunView], *, title: str = "sync runs") -> None:
    """Pulls and pushes in tables of their own: each direction counts in its own words."""
    for direction in ("pull", "push"):
        chosen = [v for v in views if v.direction == direction]
        if chosen:
            console.print(run_table(direction, chosen, title=f"{title}: {direction}"))


def print_run(view: RunView) -> None:
    """One run: its status, error and every count per entity."""
    console.print(
        f"run {view.id}: {view.direction} {view.school_id} {view.system} "
        f"{status_text(view.status)}"
        + (f", started {view.started}" if view.started else "")
        + (f", {view.seconds:.1f} s" if view.seconds is not None else ", still running")
    )
    if view.error:
        console.print(f"error: {escape(view.error)}", highlight=False)
    outcomes = columns(view.direction, [view])
    table = Table("entity", *(LABELS.get(o, o) for o in outcomes), title="counts per entity")
    for entity, row in sorted(view.counts.items()):
        table.add_row(entity, *(f"{int(row.get(o, 0)):,}" for o in outcomes))
    totals = view.totals()
    table.add_row("[bold]all[/]", *(f"[bold]{totals.get(o, 0):,}[/]" for o in outcomes))
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command()
    def runs(
        run_id: Annotated[
            int | None, typer.Argument(help="one run: its counts per entity and outcome")
        ] = None,
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        system: SystemOpt = None,
        direction: Annotated[str | None, typer.Option(help="pull or push")] = None,
        limit: LimitOpt = 20,
        systems: Annotated[
            bool,
            typer.Option(
                "--systems",
                help="per school and system: last runs, next times, queue, conflicts, holds, "
                "failed pushes",
            ),
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="JSON, for monitoring")] = False,
    ) -> None:
        """The latest sync runs with every count: pulls and pushes in their own columns."""
        from schoolgate.cli import status_view

        with reported_errors():
            cfg = config_or_default(config)
            store = open_store(cfg)
            if systems:
                with store:
                    rows = [
                        r
                        for r in status_view.system_rows(cfg, store)
                        if (school is None or r.school_id == school)
                        and (system is None or r.system == system)
                    ]
                if as_json:
                    status_view.print_json({"systems": [r.as_json() for r in rows]})
                else:
                    console.print(status_view.table(rows))
                return
            with store, store.read() as tx:
                if run_id is not None:
                    one = tx.queries.run(run_id)
                    if one is None:
                        console.print(f"no run {run_id}")
                        raise typer.Exit(1)
                    if as_json:
                        status_view.print_json(view_json(RunView.of_run(one)))
                    else:
                        print_run(RunView.of_run(one))
                    return
                page = tx.queries.runs(
                    RunFilter(school_id=school, system=system, direction=direction),
                    Paging(limit),
                )
            if as_json:
                status_view.print_json(
                    {
                        "runs": [view_json(RunView.of_run(r)) for r in page.items],
                        "total": page.total,
                    }
                )
                return
            if not page.items:
                console.print("no runs yet: `schoolgate sync` makes the first")
                return
            print_runs([RunView.of_run(r) for r in page.items])
            more = more_line(len(page.items), page.total, "runs: --limit N shows more")
            if more:
                console.print(more)


def view_json(view: RunView) -> dict[str, object]:
    return {
        "id": view.id,
        "school": view.school_id,
        "system": view.system,
        "direction": view.direction,
        "status": view.status,
        "started": view.started,
        "seconds": view.seconds,
        "counts": {e: dict(row) for e, row in view.counts.items()},
        "totals": view.totals(),
        "error": view.error,
    }


def reports_view(reports: Iterable[RunReport]) -> list[RunView]:
    return [RunView.of_report(r) for r in reports]
