"""One job per (school, system, direction): open the system's plugin — connector and mapping —
for a :class:`SystemSetup` and run a pull or a push. The CLI, the demo and the job queue call
these; the application builds the setup from its configuration.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from connectors.base import Capabilities, Connector, ConnectorSettings
from core.entities import Entity
from core.errors import ConfigError
from mapping.mapper import Mapper
from mapping.model import Record
from plugins import MapperContext, SystemPlugin
from plugins import load as load_plugin
from store import Store
from sync.policy import EntityPolicy, SyncSettings
from sync.pull import Progress, Puller, PullOptions
from sync.push import Pusher
from sync.roster import roster_for
from sync.runs import RunReport


@dataclass(frozen=True)
class SystemSetup:
    """One school's system, as a job needs it."""

    school_id: str
    #: the key of the system in the school's configuration (``es2``, …)
    system: str
    connector: ConnectorSettings
    #: the plugin that serves it (by default the key)
    plugin: str = ""
    timezone: str = "Europe/Moscow"
    policies: Mapping[Entity, EntityPolicy] = field(default_factory=dict)
    #: per entity, the school's systems that take pushes of it (every system of the school)
    push_targets: Mapping[Entity, tuple[str, ...]] = field(default_factory=dict)
    #: a deployment's override of the plugin's mapping profile
    profile_override: Path | None = None

    @property
    def plugin_name(self) -> str:
        return self.plugin or self.system

    @property
    def tz(self) -> dt.tzinfo:
        return zoneinfo.ZoneInfo(self.timezone)


def check_directions(setup: SystemSetup, caps: Capabilities) -> None:
    """A setup that asks a system for what it cannot do fails at start, naming every entity."""
    problems: list[str] = []
    for entity, policy in sorted(setup.policies.items()):
        if policy.direction in ("pull", "both") and entity not in caps.pull:
            problems.append(f"{setup.system} cannot be read for {entity}")
        if policy.direction in ("push", "both") and entity not in caps.push:
            problems.append(f"{setup.system} takes no writes of {entity}")
    if problems:
        can_push = ", ".join(sorted(caps.push)) or "nothing"
        raise ConfigError(
            "; ".join(problems) + f" (it can push: {can_push})",
            key=f"schools[{setup.school_id}].systems.{setup.system}.entities",
        )


@dataclass
class Job:
    setup: SystemSetup
    plugin: SystemPlugin
    connector: Connector
    mapper: Mapper
    #: the work types the system's mapping profile calls written (None: it says nothing)
    written_work: tuple[str, ...] | None = None

    def close(self) -> None:
        self.connector.close()


def preflight(setup: SystemSetup) -> None:
    """Everything about a setup that can be wrong before any network or store work: the plugin
    is installed, the directions are ones the system serves, the profile override reads."""
    plugin = load_plugin(setup.plugin_name)
    check_directions(setup, plugin.connector.declared_capabilities())
    plugin.load_profile(setup.profile_override)


def open_job(store: Store, setup: SystemSetup, *, client: httpx.Client | None = None) -> Job:
    plugin = load_plugin(setup.plugin_name)
    check_directions(setup, plugin.connector.declared_capabilities())
    profile = plugin.load_profile(setup.profile_override)
    settings = dataclasses.replace(setup.connector, profile=profile.settings)
    connector = plugin.build_connector(settings, client=client)
    roster: tuple[Record, ...] = ()
    if plugin.needs_roster:
        with store.read() as tx:
            roster = tuple(roster_for(tx, setup.school_id, setup.system))
    mapper = plugin.mapper(MapperContext(setup.school_id, profile, settings, roster))
    return Job(setup, plugin, connector, mapper, profile.written_work)


def pull(
    store: Store,
    settings: SyncSettings,
    job: Job,
    options: PullOptions,
    progress: Progress | None = None,
) -> RunReport:
    setup = job.setup
    puller = Puller(
        store,
        job.connector,
        job.mapper,
        school_id=setup.school_id,
        system=setup.system,
        policies=setup.policies,
        settings=settings,
        push_targets=setup.push_targets,
        timezone=setup.tz,
        written_work=job.written_work,
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
        school_id=job.setup.school_id,
        system=job.setup.system,
        progress=progress,
    ).run()


def written_work(profiles: Iterable[tuple[str, Path | None]]) -> tuple[str, ...] | None:
    """The work types that the mapping profiles of a school's systems — ``(plugin name, the
    deployment's override)`` each — call written: all of them, for the local journal, whose
    marks any of the systems may receive. ``None`` when no profile has a list."""
    names: dict[str, None] = {}
    said = False
    for plugin_name, override in profiles:
        listed = load_plugin(plugin_name).load_profile(override).written_work
        if listed is not None:
            said = True
            names.update(dict.fromkeys(listed))
    return tuple(names) if said else None
