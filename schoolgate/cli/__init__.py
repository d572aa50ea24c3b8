"""The ``schoolgate`` command line. Each command group lives in its own module."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

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
        str, typer.Option("--log-format", help="json (machines) or console (people)")
    ] = "json",
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
) -> None:
    fmt: Literal["json", "console"] = "console" if log_format == "console" else "json"
    configure_logging(fmt, log_level)


def _register() -> None:
    from schoolgate.cli import (
        connectors_cmd,
        demo_cmd,
        serve_cmd,
        simulate_cmd,
        store_cmd,
        sync_cmd,
        tokens_cmd,
    )

    store_cmd.register(app)
    sync_cmd.register(app)
    connectors_cmd.register(app)
    simulate_cmd.register(app)
    demo_cmd.register(app)
    serve_cmd.register(app)
    tokens_cmd.register(app)


_register()


def main() -> None:
    app()
