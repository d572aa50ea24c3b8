"""What a system plugin is: a connector class, a mapping factory and a shipped profile."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path

import httpx

from connectors.base import Connector, ConnectorFactory, ConnectorSettings
from mapping.mapper import Mapper
from mapping.model import Record
from mapping.profile import Profile, load_profile


@dataclass(frozen=True, slots=True)
class MapperContext:
    """What a mapping is bound to: one school, its profile, the connector's settings (options
    such as О7's school year) and, for a plugin that asks for it, the school's roster with each
    record's id in this system. ``settings.system`` is the system's key in the configuration:
    the prefix of the external references the mapping makes (``"<key>:<id>"``)."""

    school_id: str
    profile: Profile
    settings: ConnectorSettings
    roster: Sequence[Record] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class SystemPlugin:
    """One external system, whole."""

    #: the name configurations use (``[schools.systems.<name>]`` or ``connector = "<name>"``)
    name: str
    #: what people call it («Электронная школа 2.0»)
    title: str
    connector: ConnectorFactory
    mapper: Callable[[MapperContext], Mapper]
    #: the profile file shipped with the plugin (code tables, settings)
    profile: Traversable
    #: the mapping resolves names against the roster: give it the roster and refresh it
    needs_roster: bool = False

    def load_profile(self, override: Path | None = None) -> Profile:
        """The shipped profile with a deployment's ``override`` merged over it."""
        return load_profile(self.name, override, shipped=self.profile)

    def build_connector(
        self, settings: ConnectorSettings, *, client: httpx.Client | None = None
    ) -> Connector:
        return self.connector.from_settings(settings, client=client)
