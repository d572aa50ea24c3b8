"""``schoolgate demo``: simulators, a demo configuration, a full sync and a push, on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        directory: Annotated[
            Path, typer.Option("--dir", help="where the demo store and configuration go")
        ] = Path("demo-run"),
        size: Annotated[str, typer.Option(help="tiny | small | large")] = "tiny",
        seed: Annotated[int, typer.Option(help="generator seed")] = 7,
        serve: Annotated[
            bool,
            typer.Option("--serve", help="then leave the web console running on the demo store"),
        ] = False,
        port: Annotated[int, typer.Option(help="the console's port with --serve")] = 8080,
    ) -> None:
        """Run the whole job on the embedded default against the three simulators."""
        from schoolgate.demo import run, serve_console

        code = run(directory, size=size, seed=seed)
        if serve:
            serve_console(directory, port=port)
        raise typer.Exit(code)
