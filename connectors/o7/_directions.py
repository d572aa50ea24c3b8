"""Check a configuration's sync directions against what a connector can do (pure, generic).

A sync configured to push an entity the system takes no writes of (О7: rosters and lessons)
must fail at start with a :class:`~core.errors.ConfigError`, not at the first push.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.base import Capabilities
from core.entities import Entity
from core.errors import ConfigError

_PUSHING = frozenset({"push", "both"})
_PULLING = frozenset({"pull", "both"})
_KNOWN = _PUSHING | _PULLING | {"off"}


def validate_directions(capabilities: Capabilities, requested: Mapping[Entity, str]) -> None:
    """Raise :class:`ConfigError` naming every entity whose direction the system cannot serve."""
    problems: list[str] = []
    for entity, direction in sorted(requested.items()):
        if direction not in _KNOWN:
            problems.append(f"{entity}: unknown direction {direction!r}")
            continue
        if direction in _PUSHING and entity not in capabilities.push:
            problems.append(f"{entity}: {capabilities.system} takes no writes of {entity}")
        if direction in _PULLING and entity not in capabilities.pull:
            problems.append(f"{entity}: {capabilities.system} cannot be read for {entity}")
    if problems:
        can_push = ", ".join(sorted(capabilities.push)) or "nothing"
        raise ConfigError(
            "; ".join(problems) + f" (it can push: {can_push})",
            key=f"systems.{capabilities.system}.entities",
        )
