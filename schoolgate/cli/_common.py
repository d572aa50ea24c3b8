"""Helpers shared by CLI commands: configuration loading and error reporting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from core.errors import GatewayError
from schoolgate.config import GatewayConfig, load_config
from schoolgate.logs import configure_logging


def _console(stderr: bool = False) -> Console:
    probe = Console(stderr=stderr)
    # piped output (CI logs, `make demo | tee`) gets room for the wide tables
    return probe if probe.is_terminal else Console(stderr=stderr, width=160)


console = _console()
err_console = _console(stderr=True)

DEFAULT_CONFIG = Path("schoolgate.toml")


#: the ``--log-format``/``--log-level`` given on the command line (``None``: not given)
LOG_OVERRIDE: dict[str, Any] = {"format": None, "level": None}


def config_or_default(path: Path | None) -> GatewayConfig:
    """The configuration at ``path``; without one, ``schoolgate.toml`` if present, else defaults.
    Its ``[log]`` table takes effect for what the command line left unsaid."""
    if path is None:
        config = load_config(DEFAULT_CONFIG) if DEFAULT_CONFIG.exists() else GatewayConfig()
    else:
        config = load_config(path)
    configure_logging(
        LOG_OVERRIDE["format"] or config.log.format, LOG_OVERRIDE["level"] or config.log.level
    )
    return config


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a :class:`GatewayError` into one red line and exit code 2."""
    try:
        yield
    except GatewayError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
