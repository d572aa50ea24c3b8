"""``schoolgate check``: every configured system — address, login, capabilities — one line each."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from core.errors import ConfigError
from ops.check import CheckOptions, Target, check_all
from schoolgate.cli._common import (
    ConfigOpt,
    SchoolOpt,
    SystemOpt,
    reported_errors,
    require_config,
)
from schoolgate.config import GatewayConfig


def targets(config: GatewayConfig, school: str | None, system: str | None) -> list[Target]:
    """The configured systems to check; one whose setup cannot be built (a secret not set)
    becomes a target carrying its problem, so the other systems are still checked."""
    schools = [config.school(school)] if school else config.schools
    out: list[Target] = []
    for sc in schools:
        keys = [system] if system else list(sc.systems)
        for key in keys:
            cfg = sc.systems.get(key)
            if cfg is None:
                raise ConfigError(f"school {sc.id} has no system {key!r}", key="systems")
            try:
                out.append(Target(sc.id, key, cfg.base_url, setup=sc.setup(key)))
            except ConfigError as exc:
                out.append(Target(sc.id, key, cfg.base_url, problem=str(exc)))
    return out


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        system: SystemOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON for monitoring")] = False,
        timeout: Annotated[
            float, typer.Option("--timeout", min=0.1, help="seconds for one request")
        ] = 10.0,
        parallel: Annotated[int, typer.Option("--parallel", min=1, help="systems at a time")] = 4,
    ) -> None:
        """Check every configured system: URL reachable, credentials accepted (a refused login
        is never retried), capabilities as configured. Exit code 1 when any check fails."""
        with reported_errors():
            cfg = require_config(config)
            found = targets(cfg, school, system)
            if not found:
                raise ConfigError("no system is configured for the schools named")
            options = CheckOptions(timeout=timeout, budget=max(timeout * 2, 1.0))
            results = check_all(found, options, workers=parallel)
        if as_json:
            payload = {
                "ok": all(r.ok for r in results),
                "failed": sum(not r.ok for r in results),
                "systems": [r.as_dict() for r in results],
            }
            typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        else:
            for r in results:  # one line each, never wrapped (for grep and monitoring)
                typer.echo(r.line())
            bad = sum(not r.ok for r in results)
            summary = (
                f"все системы в порядке: {len(results)}"
                if not bad
                else f"не в порядке: {bad} из {len(results)}"
            )
            typer.echo(summary)
        if any(not r.ok for r in results):
            raise typer.Exit(1)
