"""``schoolgate periods list|close|reopen``: marking periods, closed and reopened by a named person."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from schoolgate import runner
from schoolgate.cli._common import config_or_default, console, reported_errors
from sync import periods as period_ops
from sync.periods import PeriodState

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="configuration TOML")]
SchoolOpt = Annotated[
    str | None, typer.Option("--school", help="one school id (default: every school configured)")
]
ByOpt = Annotated[
    str, typer.Option("--by", help="who does it (kept in the audit history)", show_default=False)
]


def _row(state: PeriodState, school: str) -> tuple[str, ...]:
    p = state.period
    return (
        p.id,
        school,
        p.name,
        p.kind,
        ",".join(str(n) for n in p.parallels),
        p.start.isoformat(),
        p.end.isoformat(),
        "closed" if p.closed else "open",
        state.by or "",
        state.at.strftime("%Y-%m-%d %H:%M") if state.at else "",
    )


def _said(verb: str, state: PeriodState) -> None:
    p = state.period
    console.print(
        f"period {p.id} ({p.name}, {p.start}–{p.end}) {verb} by {state.by}", highlight=False
    )


def register(app: typer.Typer) -> None:
    periods = typer.Typer(
        help="Marking periods: list them, close one (its marks are frozen), reopen one."
    )
    app.add_typer(periods, name="periods")

    @periods.command("list")
    def periods_list(config: ConfigOpt = None, school: SchoolOpt = None) -> None:
        """The periods of each school, open or closed, with who last closed or reopened them."""
        with reported_errors():
            cfg = config_or_default(config)
            schools = [school] if school else [s.id for s in cfg.schools]
            with runner.open_store(cfg) as store:
                rows = [
                    _row(s, sid) for sid in schools for s in period_ops.list_periods(store, sid)
                ]
        table = Table(title="periods")
        table.add_column("id", no_wrap=True)  # whole: it is what `close` and `reopen` take
        for name in ("school", "name", "kind", "parallels", "start", "end", "state", "by", "when"):
            table.add_column(name)
        for row in rows:
            table.add_row(*row, style="yellow" if row[7] == "closed" else "")
        console.print(table)
        if not rows:
            console.print("no periods in the store (run `schoolgate sync` first)")

    @periods.command("close")
    def periods_close(period_id: str, by: ByOpt, config: ConfigOpt = None) -> None:
        """Close a period: from now on its marks, lessons, absences and period marks are frozen
        (the local journal refuses changes; a system's changes wait for a person)."""
        with reported_errors():
            cfg = config_or_default(config)
            with runner.open_store(cfg) as store:
                state = period_ops.close_period(store, period_id, by=by)
        _said("closed", state)

    @periods.command("reopen")
    def periods_reopen(period_id: str, by: ByOpt, config: ConfigOpt = None) -> None:
        """Reopen a closed period (audited: who and when)."""
        with reported_errors():
            cfg = config_or_default(config)
            with runner.open_store(cfg) as store:
                state = period_ops.reopen_period(store, period_id, by=by)
        _said("reopened", state)
