"""``schoolgate serve``: the feed API for regional portals and the local journal's write API."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from fastapi import FastAPI

from api import ApiSettings, SchoolSetup, create_app
from core.errors import StoreError
from schoolgate.cli._common import config_or_default, err_console, reported_errors
from schoolgate.config import GatewayConfig
from store import Store

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="configuration TOML")]


_ENV = "SCHOOLGATE_SERVE"


def api_settings(cfg: GatewayConfig, *, max_wait: float = 30.0, threads: int = 2) -> ApiSettings:
    """The server's settings from the configuration: every school's journal takes writes, its
    changes pushed to the school's systems that take them."""
    return ApiSettings(
        schools={s.id: SchoolSetup(push_targets=s.push_targets()) for s in cfg.schools},
        max_wait=max_wait,
        threads=threads,
    )


def _open(config: Path | None, *, max_wait: float, threads: int) -> tuple[Store, FastAPI]:
    cfg = config_or_default(config)
    store = Store.open(cfg.store.url)
    if store.revision() != store.head():
        store.close()
        raise StoreError("the store is not at the newest schema: run `schoolgate init`")
    return store, create_app(store, api_settings(cfg, max_wait=max_wait, threads=threads))


def app_from_environment() -> FastAPI:
    """uvicorn's factory in each worker process of ``serve --workers N``: the settings travel in
    an environment variable, the store is opened by the worker itself."""
    options = json.loads(os.environ[_ENV])
    config = Path(options["config"]) if options["config"] else None
    _, application = _open(config, max_wait=options["max_wait"], threads=options["threads"])
    return application


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        config: ConfigOpt = None,
        host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port")] = 8080,
        workers: Annotated[
            int, typer.Option(min=1, help="server processes (rate limits are per process)")
        ] = 1,
        threads: Annotated[
            int, typer.Option(min=1, help="threads doing the store's work in each process")
        ] = 2,
        max_wait: Annotated[
            float, typer.Option(help="longest long-poll a feed request may ask, seconds")
        ] = 30.0,
        access_log: Annotated[bool, typer.Option(help="log each request line")] = True,
    ) -> None:
        """Serve the change feed, snapshots, the journal write API, /health and /metrics."""
        import uvicorn

        common = {
            "host": host,
            "port": port,
            "access_log": access_log,
            "timeout_graceful_shutdown": 5,
        }
        with reported_errors():
            store, application = _open(config, max_wait=max_wait, threads=threads)
        level = config_or_default(config).log.level
        err_console.print(
            f"serving the feed API on http://{host}:{port} with {workers} process(es) "
            f"(store {store.display_url})"
        )
        if workers == 1:
            try:
                uvicorn.run(application, log_level=level, **common)  # type: ignore[arg-type]
            finally:
                store.close()
            return
        store.close()
        os.environ[_ENV] = json.dumps(
            {
                "config": str(config.resolve()) if config else None,
                "max_wait": max_wait,
                "threads": threads,
            }
        )
        uvicorn.run(
            "schoolgate.cli.serve_cmd:app_from_environment",
            factory=True,
            workers=workers,
            log_level=level,
            **common,  # type: ignore[arg-type]
        )
