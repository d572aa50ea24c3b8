"""``schoolgate serve``: the feed API for regional portals, the local journal's write API and the
web console (``/console``).

With ``--workers N`` the server runs in N processes, each with its own listening socket on the
same port (``SO_REUSEPORT``): the kernel spreads new connections over them, where one shared
socket lets whichever process wakes first take every connection of a burst.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from api import ApiSettings, SchoolSetup, create_app
from console import ConsoleSettings, mount_console
from core.errors import StoreError
from schoolgate import console_seams as seams
from schoolgate import runner
from schoolgate.cli._common import config_or_default, err_console, reported_errors
from schoolgate.config import GatewayConfig
from store import Store

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="configuration TOML")]


def api_settings(cfg: GatewayConfig, *, max_wait: float = 30.0, threads: int = 2) -> ApiSettings:
    """The server's settings from the configuration: every school's journal takes writes, its
    changes pushed to the school's systems that take them."""
    return ApiSettings(
        schools={
            s.id: SchoolSetup(
                push_targets=s.push_targets(), deadlines=runner.deadlines_of(cfg, s.id)
            )
            for s in cfg.schools
        },
        max_wait=max_wait,
        threads=threads,
    )


@dataclass(frozen=True)
class ServeOptions:
    config: Path | None
    host: str
    port: int
    max_wait: float
    threads: int
    access_log: bool
    secure_cookies: bool = True


def _open_store(cfg: GatewayConfig) -> Store:
    store = Store.open(cfg.store.url)
    if store.revision() != store.head():
        store.close()
        raise StoreError("the store is not at the newest schema: run `schoolgate init`")
    return store


def _listen(host: str, port: int, *, shared: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def console_settings(cfg: GatewayConfig, *, secure: bool = True) -> ConsoleSettings:
    """The console's settings from the configuration: its schools and systems, their time zones,
    and the seams (:mod:`console.seams`, made in :mod:`schoolgate.console_seams`): the next run
    of each school's system from ``[schedule]``, the backups in ``[backup] dir`` (none
    configured: the page says so), the journal-control report with ``[control]``'s norms, and
    the held pull run again after a person approves it."""

    def approve(store: Store, hold_id: int, by: str) -> str:
        from sync import resolutions

        hold = resolutions.approve_hold(store, hold_id, by=by)
        setup = cfg.school(hold.school_id).setup(hold.system)

        def pull() -> None:
            from sync.pull import PullOptions

            runner.pull(store, cfg, setup, PullOptions(approve_hold=True))

        threading.Thread(target=pull, name=f"hold-{hold_id}", daemon=True).start()
        return "одобрена; загрузка запущена заново (итог — на странице запусков)"

    return ConsoleSettings(
        cookie_secure=secure,
        configured=[(s.id, key) for s in cfg.schools for key in s.systems],
        timezones={s.id: s.timezone for s in cfg.schools},
        school_names={s.id: s.name for s in cfg.schools},
        next_runs=seams.next_runs(cfg),
        backups=seams.backups(cfg.backup.dir) if cfg.backup.dir is not None else None,
        control_report=seams.ControlReports.of(cfg),
        approve_hold=approve,
    )


def build_app(
    cfg: GatewayConfig, store: Store, settings: ApiSettings, *, secure: bool = True
) -> Any:
    """The feed API with the web console mounted at ``/console``."""
    app = create_app(store, settings)
    mount_console(app, store, console_settings(cfg, secure=secure))
    return app


def _run(options: ServeOptions, sock: socket.socket | None) -> None:
    """One server process: its own store connections, its own app, uvicorn on its socket."""
    import uvicorn

    cfg = config_or_default(options.config)
    store = _open_store(cfg)
    settings = api_settings(cfg, max_wait=options.max_wait, threads=options.threads)
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(cfg, store, settings, secure=options.secure_cookies),
            log_level=cfg.log.level,
            access_log=options.access_log,
            timeout_graceful_shutdown=5,
        )
    )
    try:
        sock = sock or _listen(options.host, options.port, shared=True)
        server.run(sockets=[sock])
    finally:
        store.close()


def _worker(options: ServeOptions) -> None:
    _run(options, None)


def _supervise(options: ServeOptions, workers: int) -> None:
    """Start ``workers`` processes and stop them together (SIGTERM or Ctrl-C)."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(options,), daemon=False) for _ in range(workers)]
    for p in procs:
        p.start()

    def stop(*_: Any) -> None:
        for p in procs:
            if p.is_alive():
                p.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        for p in procs:
            p.join()
    except KeyboardInterrupt:
        stop()
        for p in procs:
            p.join(timeout=30)


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
        secure_cookies: Annotated[
            bool,
            typer.Option(help="console cookies only over HTTPS (browsers keep them on localhost)"),
        ] = True,
    ) -> None:
        """Serve the change feed, snapshots, the journal write API, /health and /metrics."""
        options = ServeOptions(
            config.resolve() if config else None, host, port, max_wait, threads, access_log,
            secure_cookies,
        )  # fmt: skip
        with reported_errors():
            cfg = config_or_default(config)
            _open_store(cfg).close()  # refuse a store that is not ready before forking
        err_console.print(
            f"serving the feed API and the console (http://{host}:{port}/console/) "
            f"with {workers} process(es)"
        )
        if workers == 1:
            _run(options, _listen(host, port, shared=False))
        else:
            _supervise(options, workers)
