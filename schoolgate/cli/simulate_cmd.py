"""``schoolgate simulate es2|asiou|o7``: serve a simulated system for a generated school."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from fixtures.serve import serve_forever

SYSTEMS = {"es2": "fixtures.es2", "asiou": "fixtures.asiou", "o7": "fixtures.o7"}


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Serve a simulator of an external system on loopback.")
    app.add_typer(group, name="simulate")

    def make(system: str) -> None:
        @group.command(system)
        def _cmd(
            port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1")] = 8700,
            seed: Annotated[int, typer.Option(help="generator seed")] = 1,
            size: Annotated[str, typer.Option(help="small | large")] = "small",
            faults: Annotated[float, typer.Option(help="rate of each contract fault, 0..1")] = 0.0,
        ) -> None:
            module = importlib.import_module(SYSTEMS[system])
            app_ = module.build_app(seed=seed, size=size, fault_rate=faults)
            typer.echo(
                f"{system} simulator: seed={seed} size={size} faults={faults} on 127.0.0.1:{port}"
            )
            serve_forever(app_, port=port)

        _cmd.__doc__ = f"Serve the {system} simulator for a generated school."

    for name in SYSTEMS:
        make(name)
