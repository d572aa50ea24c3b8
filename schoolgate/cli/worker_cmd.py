"""``schoolgate run`` (the scheduler and the jobs in one process, on the embedded queue) and
``schoolgate worker`` (the same jobs as workers over Redis, shared by many machines)."""

from __future__ import annotations

from typing import Annotated

import typer

from ops.queue import embedded_path
from schoolgate import service
from schoolgate.cli._common import ConfigOpt, console, open_store, reported_errors, require_config

WorkersOpt = Annotated[
    int, typer.Option("--workers", min=1, max=64, help="jobs run at once by this process")
]


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(config: ConfigOpt = None, workers: WorkersOpt = 1) -> None:
        """Run the schedule and its jobs in this process, on a queue kept in a file beside the
        store (nothing else to set up). Stop with SIGTERM or Ctrl-C: the running job finishes
        or keeps its checkpoint; queued jobs run after the next start."""
        with reported_errors():
            cfg = require_config(config)
            with open_store(cfg) as store:
                proc = service.worker(cfg, store, redis=False)
                console.print(
                    f"schoolgate run: {len(service.job_keys(cfg))} jobs, {workers} at a time, "
                    f"queue {embedded_path(cfg.queue, cfg.store.url)}",
                    highlight=False,
                )
                proc.run(workers)

    @app.command("worker")
    def worker(
        config: ConfigOpt = None,
        workers: WorkersOpt = 1,
        scheduler: Annotated[
            bool,
            typer.Option(
                "--scheduler/--no-scheduler",
                help="take part in scheduling (one worker of the region leads at a time)",
            ),
        ] = True,
    ) -> None:
        """Run jobs from the Redis queue the configuration names (queue url; many machines share it; the store
        should be PostgreSQL). At most one job per school and system runs in the whole region."""
        with reported_errors():
            cfg = require_config(config)
            with open_store(cfg) as store:
                proc = service.worker(cfg, store, redis=True, scheduler=scheduler)
                console.print(
                    f"schoolgate worker: {workers} at a time on {cfg.queue.name} "
                    f"({'scheduling' if scheduler else 'no scheduling'})",
                    highlight=False,
                )
                proc.run(workers)
