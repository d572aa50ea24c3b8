"""``schoolgate simulate es2|asiou|o7``: serve a simulated system for a generated school.

Everything hostile is off unless asked for: ``--dirt realistic`` (or a share for every case)
serves a dirty school, ``--duplicates``/``--moving`` add wire dirt, ``--latency``/``--jitter``
slow the answers and ``--rate-limit`` (ES2) enforces a per-client limit (the contract's is 10).
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer

from fixtures.generator.dirt import Dirt
from fixtures.pace import Pace
from fixtures.serve import serve_forever

SYSTEMS = {"es2": "fixtures.es2", "asiou": "fixtures.asiou", "o7": "fixtures.o7"}
#: systems whose contract describes records changing during a read (ES2 pages, АСИОУ exports)
MOVING = frozenset({"es2", "asiou"})
#: systems whose contract states a rate limit
RATE_LIMITED = frozenset({"es2"})


def parse_dirt(text: str) -> Dirt | None:
    """``none``, ``realistic``, or one share (0..1) for every case."""
    if text == "none":
        return None
    if text == "realistic":
        return Dirt.realistic()
    try:
        share = float(text)
    except ValueError:
        raise typer.BadParameter("none, realistic or a share 0..1") from None
    if not 0 <= share <= 1:
        raise typer.BadParameter("a share must be within 0..1")
    return Dirt.uniform(share)


def simulator_options(
    system: str,
    *,
    dirt: str,
    duplicates: float,
    moving: float,
    latency: float,
    jitter: float,
    rate_limit: int,
    seed: int,
) -> dict[str, Any]:
    """Keyword options of ``build_app`` for ``system`` from the command line's values."""
    if moving and system not in MOVING:
        raise typer.BadParameter(f"--moving: the {system} contract has no paged or streamed reads")
    if rate_limit and system not in RATE_LIMITED:
        raise typer.BadParameter(f"--rate-limit: the {system} contract states no rate limit")
    options: dict[str, Any] = {"dirt": parse_dirt(dirt), "duplicates": duplicates}
    if system in MOVING:
        options["moving"] = moving
    if latency or jitter or rate_limit:
        options["pace"] = Pace(
            latency_ms=latency, jitter_ms=jitter, rate_limit=rate_limit or None, seed=seed
        )
    return options


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Serve a simulator of an external system on loopback.")
    app.add_typer(group, name="simulate")

    def make(system: str) -> None:
        @group.command(system)
        def _cmd(
            port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1")] = 8700,
            seed: Annotated[int, typer.Option(help="generator seed")] = 1,
            size: Annotated[str, typer.Option(help="tiny | small | large | xlarge")] = "small",
            faults: Annotated[float, typer.Option(help="rate of each contract fault, 0..1")] = 0.0,
            dirt: Annotated[
                str, typer.Option(help="dirty data: none | realistic | a share 0..1 per case")
            ] = "none",
            duplicates: Annotated[
                float, typer.Option(help="rate of reads serving one record twice, 0..1")
            ] = 0.0,
            moving: Annotated[
                float, typer.Option(help="rate of reads during which records change (es2, asiou)")
            ] = 0.0,
            latency: Annotated[
                float, typer.Option(help="milliseconds every answer waits (real: 50–300)")
            ] = 0.0,
            jitter: Annotated[
                float, typer.Option(help="a random extra wait of 0..MS milliseconds")
            ] = 0.0,
            rate_limit: Annotated[
                int, typer.Option(help="requests/s per client, 0 = off (es2; the contract: 10)")
            ] = 0,
        ) -> None:
            options = simulator_options(
                system,
                dirt=dirt,
                duplicates=duplicates,
                moving=moving,
                latency=latency,
                jitter=jitter,
                rate_limit=rate_limit,
                seed=seed,
            )
            module = importlib.import_module(SYSTEMS[system])
            app_ = module.build_app(seed=seed, size=size, fault_rate=faults, **options)
            typer.echo(
                f"{system} simulator: seed={seed} size={size} faults={faults} dirt={dirt} "
                f"duplicates={duplicates} moving={moving} latency={latency}+{jitter}ms "
                f"rate_limit={rate_limit or 'off'} on 127.0.0.1:{port}"
            )
            serve_forever(app_, port=port)

        _cmd.__doc__ = f"Serve the {system} simulator for a generated school."

    for name in SYSTEMS:
        make(name)
