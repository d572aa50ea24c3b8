"""Connector discovery through the ``schoolgate.connectors`` entry-point group.

A third party adds a system by publishing a package with an entry point in that group whose
object is a connector class with ``from_config(config, client=None)``; nothing in the gateway is
edited.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Protocol

import httpx

from connectors.base import Connector
from core.errors import ConfigError
from schoolgate.config import SystemConfig

GROUP = "schoolgate.connectors"


class ConnectorFactory(Protocol):
    def from_config(
        self, config: SystemConfig, *, client: httpx.Client | None = None
    ) -> Connector: ...


def available() -> dict[str, EntryPoint]:
    """Installed connectors by name."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load(name: str) -> ConnectorFactory:
    eps = available()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise ConfigError(
            f"no connector {name!r} is installed (installed: {known})", key="connector"
        )
    factory: ConnectorFactory = eps[name].load()
    return factory


def build(
    system_key: str, config: SystemConfig, *, client: httpx.Client | None = None
) -> Connector:
    """The connector for ``[schools.systems.<system_key>]``."""
    return load(config.connector or system_key).from_config(config, client=client)
