"""One job per (school, system, direction): build the connector and mapper from the
configuration and run a pull or a push. The CLI, the demo and (later) the job queue call these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

from connectors import registry
from connectors.base import Capabilities, Connector
from core.entities import Entity
from core.errors import ConfigError
from mapping.model import Record
from mapping.profile import load_profile
from schoolgate.config import GatewayConfig, SchoolConfig, SystemConfig
from store import Store
from sync.journal import push_targets
from sync.mappers import Mapper, make_mapper, roster_for
from sync.pull import Progress, Puller, PullOptions, RunReport
from sync.push import Pusher


def check_directions(system_key: str, system: SystemConfig, caps: Capabilities) -> None:
    """A configuration that asks a system for what it cannot do fails at start."""
    for entity, policy in system.entities.items():
        if policy.direction in ("pull", "both") and entity not in caps.pull:
            raise ConfigError(
                f"{system_key} cannot be read for {entity}",
                key=f"systems.{system_key}.entities.{entity}.direction",
            )
        if policy.direction in ("push", "both") and entity not in caps.push:
            raise ConfigError(
                f"{system_key} takes no writes of {entity}",
                key=f"systems.{system_key}.entities.{entity}.direction",
            )


@dataclass
class Job:
    school: SchoolConfig
    system_key: str
    system: SystemConfig
    connector: Connector
    mapper: Mapper

    def close(self) -> None:
        self.connector.close()


def open_job(
    store: Store, school: SchoolConfig, system_key: str, *, client: httpx.Client | None = None
) -> Job:
    system = school.systems.get(system_key)
    if system is None:
        raise ConfigError(f"school {school.id} has no system {system_key!r}", key="systems")
    connector = registry.build(system_key, system, client=client)
    check_directions(system_key, system, connector.capabilities())
    profile = load_profile(system.connector or system_key, system.profile)
    roster: list[Record] = []
    if getattr(connector, "make_mapper", None) is not None:
        with store.read() as tx:
            roster = roster_for(tx, school.id, system_key)
    mapper = make_mapper(connector, system.connector or system_key, profile, school.id, roster)
    return Job(school, system_key, system, connector, mapper)


def pull(
    store: Store,
    config: GatewayConfig,
    job: Job,
    options: PullOptions,
    progress: Progress | None = None,
) -> RunReport:
    import zoneinfo

    puller = Puller(
        store,
        job.connector,
        job.mapper,
        school_id=job.school.id,
        system=job.system_key,
        policies=job.system.entities,
        settings=config.sync,
        push_targets=push_targets(job.school),
        timezone=zoneinfo.ZoneInfo(job.school.timezone),
        options=options,
        progress=progress,
    )
    return puller.run()


def push(
    store: Store, job: Job, progress: Callable[[Entity, int], None] | None = None
) -> RunReport:
    return Pusher(
        store,
        job.connector,
        job.mapper,
        school_id=job.school.id,
        system=job.system_key,
        progress=progress,
    ).run()


def selected(
    config: GatewayConfig, school: str | None, system: str | None
) -> Iterable[tuple[SchoolConfig, str]]:
    schools = [config.school(school)] if school else config.schools
    for sc in schools:
        keys = [system] if system else list(sc.systems)
        for key in keys:
            if key not in sc.systems:
                raise ConfigError(f"school {sc.id} has no system {key!r}", key="systems")
            yield sc, key
