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
    ) -> None:
        """Run the whole job on the embedded default against the three simulators."""
        from schoolgate.demo import run

        raise typer.Exit(run(directory, size=size, seed=seed))
