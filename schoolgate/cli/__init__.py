"""The ``schoolgate`` command line. Each command group lives in its own module."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from schoolgate.cli._common import LOG_OVERRIDE
from schoolgate.logs import configure_logging

app = typer.Typer(
    name="schoolgate",
    help="School journal integration gateway: АСИОУ, «Электронная школа 2.0», «О7.Образование».",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    log_format: Annotated[
        str | None,
        typer.Option("--log-format", help="json (machines) or console (people); default: [log]"),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option("--log-level", help="debug, info, warning, error; default: [log]")
    ] = None,
) -> None:
    """Logging as the options say; what they leave unsaid comes from the configuration's
    ``[log]`` table once it is read (see :func:`schoolgate.cli._common.config_or_default`)."""
    fmt: Literal["json", "console"] | None = (
        None if log_format is None else ("console" if log_format == "console" else "json")
    )
    LOG_OVERRIDE.update(format=fmt, level=log_level)
    configure_logging(fmt or "json", log_level or "info")


def _register() -> None:
    from schoolgate.cli import (
        backup_cmd,
        check_cmd,
        connectors_cmd,
        control_cmd,
        demo_cmd,
        journal_print_cmd,
        outbox_cmd,
        periods_cmd,
        queues_cmd,
        reconcile_cmd,
        runs_cmd,
        serve_cmd,
        simulate_cmd,
        store_cmd,
        sync_cmd,
        tokens_cmd,
        users_cmd,
        worker_cmd,
    )

    store_cmd.register(app)
    sync_cmd.register(app)
    runs_cmd.register(app)
    queues_cmd.register(app)
    outbox_cmd.register(app)
    periods_cmd.register(app)
    connectors_cmd.register(app)
    simulate_cmd.register(app)
    demo_cmd.register(app)
    serve_cmd.register(app)
    tokens_cmd.register(app)
    control_cmd.register(app)
    check_cmd.register(app)
    backup_cmd.register(app)
    reconcile_cmd.register(app)
    journal_print_cmd.register(app)
    worker_cmd.register(app)
    users_cmd.register(app)


_register()


def main() -> None:
    app()
