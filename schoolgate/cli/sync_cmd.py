"""``schoolgate sync``: pull from and push to the configured systems. The listings live beside
it: ``runs`` (:mod:`.runs_cmd`), ``conflicts``/``holds``/``identities`` (:mod:`.queues_cmd`),
``outbox`` (:mod:`.outbox_cmd`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from core.entities import Entity
from schoolgate import runner
from schoolgate.cli._common import (
    ConfigOpt,
    SchoolOpt,
    SystemOpt,
    console,
    open_store,
    reported_errors,
    require_config,
)
from schoolgate.cli.runs_cmd import print_runs, reports_view
from sync import jobs
from sync.pull import PullOptions
from sync.runs import RunReport


def print_reports(reports: list[RunReport]) -> None:
    """The runs just made, pulls and pushes each with their own counts."""
    print_runs(reports_view(reports))


def register(app: typer.Typer) -> None:
    @app.command()
    def sync(
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        system: SystemOpt = None,
        entity: Annotated[
            list[str] | None, typer.Option("--entity", help="only these entities")
        ] = None,
        full: Annotated[
            bool, typer.Option("--full", help="ignore saved state: read everything")
        ] = False,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="show what would change, write nothing")
        ] = False,
        direction: Annotated[str, typer.Option(help="pull, push or both")] = "both",
    ) -> None:
        """Pull from and push to the configured systems. Exits 1 when a run failed."""
        with reported_errors():
            if direction not in ("pull", "push", "both"):
                raise typer.BadParameter("--direction must be pull, push or both")
            cfg = require_config(config)
            setups = runner.checked_setups(cfg, school, system)  # every one, before any work
            store = open_store(cfg)
            entities = frozenset(Entity(e) for e in entity) if entity else None
            options = PullOptions(full=full, dry_run=dry_run, entities=entities)
            reports: list[RunReport] = []
            with (
                store,
                Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    TextColumn("{task.completed} records"),
                    TimeElapsedColumn(),
                    console=console,
                    transient=True,
                ) as bar,
            ):
                for setup in setups:
                    task = bar.add_task(f"{setup.school_id} ← {setup.system}", total=None)
                    job = jobs.open_job(store, setup)
                    try:
                        label = f"{setup.school_id} {setup.system}"

                        def tick(
                            ent: Entity, n: int, task: TaskID = task, label: str = label
                        ) -> None:
                            bar.update(task, advance=n, description=f"{label}: {ent}")

                        if direction in ("pull", "both"):
                            reports.append(jobs.pull(store, cfg.sync, job, options, tick))
                        if direction in ("push", "both") and not dry_run:
                            reports.append(jobs.push(store, job, tick))
                    finally:
                        job.close()
            print_reports(reports)
            if any(r.status == "failed" for r in reports):
                raise typer.Exit(1)
