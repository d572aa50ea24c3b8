"""Running jobs from the configuration: open a system's job, pull or push, close it.

The CLI, the demo and the job queue call these; the sync engine itself knows no configuration
file (it is given a :class:`~sync.jobs.SystemSetup` and the :class:`~sync.policy.SyncSettings`).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

import httpx

from core.entities import Entity
from schoolgate.config import GatewayConfig
from store import Store
from sync import jobs, resolutions
from sync.jobs import SystemSetup
from sync.journal import Clock, Journal
from sync.pull import Progress, PullOptions
from sync.rules import Deadlines
from sync.runs import RunReport


def open_store(config: GatewayConfig) -> Store:
    """The configured store, its password (if any) read from its secret reference."""
    return Store.open(config.store.url, password=config.store.secret(), echo=config.store.echo)


def checked_setups(
    config: GatewayConfig, school: str | None = None, system: str | None = None
) -> list[SystemSetup]:
    """The setups of every configured (school, system), or of those named — each checked at
    start, before any work (secrets read, plugin installed, directions served, profile read), so
    that a mistake in a later school never shows after earlier schools were synced."""
    setups = config.setups(school, system)
    for setup in setups:
        jobs.preflight(setup)
    return setups


def pull(
    store: Store,
    config: GatewayConfig,
    setup: SystemSetup,
    options: PullOptions | None = None,
    progress: Progress | None = None,
    *,
    client: httpx.Client | None = None,
) -> RunReport:
    job = jobs.open_job(store, setup, client=client)
    try:
        return jobs.pull(store, config.sync, job, options or PullOptions(), progress)
    finally:
        job.close()


def push(
    store: Store,
    setup: SystemSetup,
    progress: Callable[[Entity, int], None] | None = None,
    *,
    client: httpx.Client | None = None,
) -> RunReport:
    job = jobs.open_job(store, setup, client=client)
    try:
        return jobs.push(store, job, progress)
    finally:
        job.close()


def approve_hold(store: Store, config: GatewayConfig, hold_id: int, *, by: str) -> RunReport:
    """Approve a hold and run the held pull again with the hold lifted."""
    hold = resolutions.approve_hold(store, hold_id, by=by)
    setup = config.school(hold.school_id).setup(hold.system)
    return pull(store, config, setup, PullOptions(approve_hold=True))


def deadlines_of(config: GatewayConfig, school_id: str) -> Deadlines:
    """A school's mark deadlines: ``[sync]``'s days in its time zone, for written work as its
    systems' mapping profiles list it."""
    school = config.school(school_id)
    written = jobs.written_work(
        (system.connector or key, system.profile) for key, system in school.systems.items()
    )
    return config.sync.deadlines(zoneinfo.ZoneInfo(school.timezone), written)


def journal(
    store: Store, config: GatewayConfig, school_id: str, *, clock: Clock | None = None
) -> Journal:
    """The local journal of a configured school: pushes to the school's systems, the mark
    deadlines of ``[sync]`` in the school's time zone, and written work as the school's systems'
    mapping profiles list it. No credentials are read."""
    school = config.school(school_id)
    deadlines = deadlines_of(config, school_id)
    if clock is None:
        return Journal(store, school.id, school.push_targets(), deadlines=deadlines)
    return Journal(store, school.id, school.push_targets(), deadlines=deadlines, clock=clock)
