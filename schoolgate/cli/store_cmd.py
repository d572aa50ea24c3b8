"""``schoolgate init`` (create or upgrade the store) and ``schoolgate status``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from core.entities import Entity
from ops.status import SystemStatus
from schoolgate import runner
from schoolgate.cli._common import (
    DEFAULT_CONFIG,
    config_or_default,
    console,
    err_console,
    reported_errors,
)
from schoolgate.cli.status_view import print_json, system_rows
from schoolgate.cli.status_view import table as status_table
from store import Paging, missing_database

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="configuration TOML")]


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(config: ConfigOpt = None) -> None:
        """Create the journal store, or upgrade it to the newest schema."""
        with reported_errors():
            cfg = config_or_default(config)
            with runner.open_store(cfg) as store:
                before, after = store.upgrade()
                url = store.display_url
        if before == after:
            console.print(f"store {url} is up to date (revision {after})", highlight=False)
        elif before is None:
            console.print(f"created store {url} at revision {after}", highlight=False)
        else:
            console.print(f"upgraded store {url}: {before} → {after}", highlight=False)

    @app.command("status")
    def status(
        config: ConfigOpt = None,
        runs: Annotated[int, typer.Option(help="how many recent runs to show")] = 10,
        as_json: Annotated[
            bool, typer.Option("--json", help="one JSON document, for monitoring")
        ] = False,
    ) -> None:
        """Show the store, and per school and system: the last runs with their outcome and
        counts, the next scheduled times, the job queue, open conflicts, holds and failed
        pushes."""
        with reported_errors():
            if config is None and not DEFAULT_CONFIG.exists():
                err_console.print(
                    f"no configuration file: pass --config FILE or create {DEFAULT_CONFIG} "
                    "(showing the default store)"
                )
            cfg = config_or_default(config)
            counts: dict[Entity, int] = {}
            recent = []
            systems: list[SystemStatus] = []
            missing = missing_database(cfg.store.url)
            if missing is not None:  # opening it would create it: status never does
                revision, head, url = None, None, f"{cfg.store.url} (no such file)"
            else:
                with runner.open_store(cfg) as store:
                    revision, head = store.revision(), store.head()
                    url = store.display_url
                    if revision is not None:
                        with store.read() as tx:
                            counts = {e: tx.records.count(e) for e in Entity}
                            recent = tx.queries.runs(paging=Paging(runs)).items
                        if revision == head:
                            systems = system_rows(cfg, store)

        if as_json:
            print_json(
                {
                    "store": {"url": url, "revision": revision, "newest": head},
                    "records": {e.value: n for e, n in counts.items()},
                    "systems": [r.as_json() for r in systems],
                }
            )
            if revision is None:
                raise typer.Exit(1)
            return

        info = Table("store", "", show_header=False)
        info.add_row("url", url)
        state = "not initialised" if revision is None else revision
        if revision is not None and revision != head:
            state += f" (newest is {head}: run `schoolgate init`)"
        info.add_row("revision", state)
        console.print(info)
        if revision is None:
            err_console.print("the store is not initialised: run `schoolgate init`")

        if counts:
            records = Table("entity", "records", title="records")
            for entity, n in counts.items():
                records.add_row(entity.value, f"{n:,}")
            console.print(records)

        schools = Table("school", "name", "systems", title="schools (configuration)")
        for school in cfg.schools:
            names = ", ".join(
                f"{name} ({s.remote_school})" for name, s in sorted(school.systems.items())
            )
            schools.add_row(school.id, school.name, names or "—")
        console.print(schools)
        if systems:
            console.print(status_table(systems))

        if revision is not None:
            table = Table("run", "school", "system", "direction", "status", "started", "finished",
                          title="latest runs")  # fmt: skip
            for run in recent:
                colour = {"success": "green", "failed": "red", "held": "yellow"}.get(run.status, "")
                table.add_row(
                    str(run.id),
                    run.school_id,
                    run.system,
                    run.direction,
                    f"[{colour}]{run.status}[/]" if colour else run.status,
                    run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                    run.finished_at.strftime("%Y-%m-%d %H:%M:%S") if run.finished_at else "",
                )
            console.print(table)
        if revision is None:
            raise typer.Exit(1)
