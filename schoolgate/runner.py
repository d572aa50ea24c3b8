"""Running jobs from the configuration: open a system's job, pull or push, close it.

The CLI, the demo and the job queue call these; the sync engine itself knows no configuration
file (it is given a :class:`~sync.jobs.SystemSetup` and the :class:`~sync.policy.SyncSettings`).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from core.entities import Entity
from schoolgate.config import GatewayConfig
from store import Store
from sync import jobs, resolutions
from sync.jobs import SystemSetup
from sync.pull import Progress, PullOptions
from sync.runs import RunReport


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
