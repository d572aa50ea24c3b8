"""The configured gateway as jobs: which jobs there are and when they run (from ``[schedule]``),
how one runs (a pull or a push through :mod:`schoolgate.runner`), and the worker processes of
``schoolgate run`` (embedded queue) and ``schoolgate worker`` (Redis)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from pathlib import Path

from core.entities import Entity
from core.errors import ConfigError
from ops.queue import JobQueue, embedded_path
from ops.schedule import JobSchedule, jitter
from ops.service import Worker
from ops.worker import Outcome
from plugins import load as load_plugin
from schoolgate import runner
from schoolgate.config import GatewayConfig, SchoolConfig
from store import JobKey, Store
from sync.pull import PullOptions
from sync.runs import RunReport


def directions(school: SchoolConfig, key: str) -> list[str]:
    """The jobs a school's system has: a pull when any entity its connector reads is pulled
    (an entity left out of the configuration is), a push when anything is written to it."""
    system = school.systems[key]
    caps = load_plugin(system.connector or key).connector.declared_capabilities()
    out = []
    if any(system.policy(e).direction in ("pull", "both") for e in caps.pull):
        out.append("pull")
    if any(p.direction in ("push", "both") for p in system.entities.values()):
        out.append("push")
    return out


def job_keys(config: GatewayConfig) -> list[JobKey]:
    return [
        JobKey(school.id, key, direction)
        for school in config.schools
        for key in school.systems
        for direction in directions(school, key)
    ]


def schedule_of(config: GatewayConfig, key: JobKey) -> JobSchedule:
    school = config.school(key.school_id)
    sched = config.schedule
    cron = sched.cron(key.school_id, key.system, key.direction, school.systems[key.system].schedule)
    tz = zoneinfo.ZoneInfo(sched.timezone or school.timezone)
    return JobSchedule(
        cron, tz, jitter(key.school_id, sched.jitter_minutes), sched.blackouts.get(key.system)
    )


def schedules(config: GatewayConfig) -> dict[JobKey, JobSchedule]:
    return {key: schedule_of(config, key) for key in job_keys(config)}


def job_runner(
    config: GatewayConfig, store: Store
) -> Callable[[JobKey, Callable[[], None]], RunReport]:
    """Runs one job as ``schoolgate sync`` would; ``check`` is called after every page."""

    def run(key: JobKey, check: Callable[[], None]) -> RunReport:
        setup = config.school(key.school_id).setup(key.system)

        def progress(entity: Entity, n: int) -> None:
            check()

        if key.direction == "pull":
            return runner.pull(store, config, setup, PullOptions(), progress)
        return runner.push(store, setup, progress)

    return run


def queue_factory(
    config: GatewayConfig, *, redis: bool
) -> Callable[[Callable[[JobKey, str], Outcome]], JobQueue]:
    settings = config.queue
    if redis:
        if settings.url is None:
            raise ConfigError(
                "schoolgate worker needs a Redis queue: set [queue] url = "
                '"redis://127.0.0.1:6379/0"',
                key="queue.url",
            )
        url = settings.url
        return lambda execute: JobQueue.redis(url, execute, settings.name)
    path: Path = embedded_path(settings, config.store.url)
    return lambda execute: JobQueue.embedded(path, execute, settings.name)


def worker(config: GatewayConfig, store: Store, *, redis: bool, scheduler: bool = True) -> Worker:
    runner.checked_setups(config)  # every setup checked before any job runs
    return Worker(
        store,
        queue_factory(config, redis=redis),
        job_runner(config, store),
        config.schedule,
        schedules(config),
        scheduler=scheduler,
    )
