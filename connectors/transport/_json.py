"""JSON answers parsed with a bound on their nesting: a hostile or broken body is a clear error,
never a ``RecursionError`` in the parser or in whatever walks the value later."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import chain, compress
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
    """Whether no container in ``value`` lies deeper than ``limit`` (the top one is level 1).

    Level by level, with the looping done by C iterators: a page of a thousand records is
    walked in about the time ``json.loads`` takes to read it, not twice that. ``value`` is
    what ``json.loads`` returns, so its containers are exactly ``dict`` and ``list``."""
    level: list[Any] = [value] if type(value) in _CONTAINERS else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return False
        dicts = list(compress(level, map(_IS_DICT, map(type, level))))
        lists = [node for node in level if type(node) is list] if len(dicts) < len(level) else []
        children = list(
            chain(chain.from_iterable(map(dict.values, dicts)), chain.from_iterable(lists))
        )
        level = list(compress(children, map(_CONTAINERS.__contains__, map(type, children))))
    return True


_CONTAINERS = frozenset((dict, list))
_DICT_ONLY: dict[type, bool] = {dict: True}
_IS_DICT: Callable[[type], bool | None] = _DICT_ONLY.get
