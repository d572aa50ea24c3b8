"""Helpers shared by CLI commands: options, configuration loading, the store, error reporting."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from core.errors import ConfigError, GatewayError, StoreError
from schoolgate import runner
from schoolgate.config import GatewayConfig, load_config
from schoolgate.logs import configure_logging
from store import Store, missing_database


def _console(stderr: bool = False) -> Console:
    probe = Console(stderr=stderr)
    # piped output (CI logs, `make demo | tee`) gets room for the wide tables
    return probe if probe.is_terminal else Console(stderr=stderr, width=160)


console = _console()
err_console = _console(stderr=True)

DEFAULT_CONFIG = Path("schoolgate.toml")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="configuration TOML")]
SchoolOpt = Annotated[str | None, typer.Option("--school", help="one school id")]
SystemOpt = Annotated[str | None, typer.Option("--system", help="one system (es2, asiou, o7)")]
LimitOpt = Annotated[int, typer.Option("--limit", help="how many rows at most")]


#: the ``--log-format``/``--log-level`` given on the command line (``None``: not given)
LOG_OVERRIDE: dict[str, Any] = {"format": None, "level": None}


def config_or_default(path: Path | None) -> GatewayConfig:
    """The configuration at ``path``; without one, ``schoolgate.toml`` if present, else defaults
    (enough for commands that only read the store). Its ``[log]`` table takes effect for what
    the command line left unsaid."""
    if path is None:
        config = load_config(DEFAULT_CONFIG) if DEFAULT_CONFIG.exists() else GatewayConfig()
    else:
        config = load_config(path)
    configure_logging(
        LOG_OVERRIDE["format"] or config.log.format, LOG_OVERRIDE["level"] or config.log.level
    )
    return config


def require_config(path: Path | None) -> GatewayConfig:
    """The configuration of a command that works on the configured schools: without a file
    there is nothing to do, which is an error, not an empty success."""
    if path is None and not DEFAULT_CONFIG.exists():
        raise ConfigError(
            f"no configuration: pass --config FILE or create {DEFAULT_CONFIG} here "
            "(the README shows one)"
        )
    config = config_or_default(path)
    if not config.schools:
        raise ConfigError("the configuration names no school: add a [[schools]] table")
    return config


def open_store(config: GatewayConfig) -> Store:
    """The configuration's store, which must exist and be at the newest schema: a command that
    meets no store says to run ``schoolgate init`` (and never creates an empty database)."""
    url = config.store.url
    missing = missing_database(url)
    if missing is not None:
        raise StoreError(f"no store at {missing}: run `schoolgate init` first")
    store = runner.open_store(config)
    try:
        revision, head = store.revision(), store.head()
    except BaseException:
        store.close()
        raise
    if revision is None:
        store.close()
        raise StoreError(f"the store {store.display_url} is not initialised: run `schoolgate init`")
    if revision != head:
        store.close()
        raise StoreError(
            f"the store {store.display_url} is at revision {revision}, this version needs {head}: "
            "run `schoolgate init` to upgrade it"
        )
    return store


def user() -> str:
    """Who runs the command (for audit)."""
    try:
        return getpass.getuser()
    except Exception:
        return "operator"


def more_line(shown: int, total: int, what: str = "") -> str | None:
    """«and 14,721 more» under a listing that shows part of what matched."""
    more = total - shown
    if more <= 0:
        return None
    return f"… and {more:,} more{' ' + what if what else ''} (of {total:,})"


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a :class:`GatewayError` into one red line and exit code 2."""
    try:
        yield
    except GatewayError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
