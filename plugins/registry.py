"""Installed system plugins, found through the ``schoolgate.systems`` entry-point group."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from core.errors import ConfigError
from plugins.contract import SystemPlugin

GROUP = "schoolgate.systems"


def available() -> dict[str, EntryPoint]:
    """Installed plugins by name (not loaded)."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load(name: str) -> SystemPlugin:
    """The plugin called ``name``; a :class:`ConfigError` naming the installed ones otherwise."""
    eps = available()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise ConfigError(f"no system plugin {name!r} is installed (installed: {known})")
    plugin = eps[name].load()
    if not isinstance(plugin, SystemPlugin):
        raise ConfigError(f"the entry point {name!r} of {GROUP} is not a SystemPlugin")
    return plugin
