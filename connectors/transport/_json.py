"""JSON answers parsed with a bound on their nesting: a hostile or broken body is a clear error,
never a ``RecursionError`` in the parser or in whatever walks the value later."""

from __future__ import annotations

import json
from typing import Any

from connectors.transport._faults import TooDeep

#: no answer of the three contracts nests deeper than a handful of levels
MAX_DEPTH = 64


def parse_json(content: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``content``.

    ``ValueError`` (``UnicodeDecodeError`` included) when it is not JSON; :class:`TooDeep` when
    it nests deeper than ``max_depth`` (checked without recursion).
    """
    try:
        value = json.loads(content)
    except RecursionError:
        raise TooDeep(max_depth) from None
    if not _within(value, max_depth):
        raise TooDeep(max_depth)
    return value


def _within(value: Any, limit: int) -> bool:
    """Whether no container in ``value`` lies deeper than ``limit`` (the top one is level 1)."""
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return False
        below: list[Any] = []
        for node in level:
            for child in node.values() if isinstance(node, dict) else node:
                if isinstance(child, dict | list):
                    below.append(child)
        level = below
    return True
