"""Helpers shared by CLI commands: configuration loading and error reporting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from core.errors import GatewayError
from schoolgate.config import GatewayConfig, load_config


def _console(stderr: bool = False) -> Console:
    probe = Console(stderr=stderr)
    # piped output (CI logs, `make demo | tee`) gets room for the wide tables
    return probe if probe.is_terminal else Console(stderr=stderr, width=160)


console = _console()
err_console = _console(stderr=True)

DEFAULT_CONFIG = Path("schoolgate.toml")


def config_or_default(path: Path | None) -> GatewayConfig:
    """The configuration at ``path``; without one, ``schoolgate.toml`` if present, else defaults."""
    if path is None:
        if DEFAULT_CONFIG.exists():
            return load_config(DEFAULT_CONFIG)
        return GatewayConfig()
    return load_config(path)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a :class:`GatewayError` into one red line and exit code 2."""
    try:
        yield
    except GatewayError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
