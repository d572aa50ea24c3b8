"""Cursor pages with a revision check, restarts and a streaming dedupe.

Every page carries the ``revision`` its cursor reads. When it changes between pages of one read,
the read restarts from its beginning (at most ``max_restarts`` times, then
:class:`InconsistentRead`). Pages are streamed: the consumer has already seen the earlier pages
when a restart happens, so it receives those records again; applying is idempotent by content
hash, and :attr:`RawPage.attempt` tells it that a new attempt began.

An item repeated from the previous page (same ``id``) is dropped. Only the ids of the previous
page are remembered, so memory does not grow with the read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from connectors.es2._envelope import Envelope
from core.errors import ContractViolation, InconsistentRead

SYSTEM = "es2"
FetchPage = Callable[[str | None], Envelope]


@dataclass(frozen=True, slots=True)
class RawPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    revision: int
    attempt: int  # 0 for the first read, n after the n-th restart
    first: bool  # the first page of its attempt
    dropped: int  # items dropped as repeats of the previous page


def read_pages(
    fetch: FetchPage,
    *,
    start_cursor: str | None = None,
    start_revision: int | None = None,
    max_restarts: int = 3,
) -> Iterator[RawPage]:
    """Pages of one read, from ``start_cursor`` (resuming at ``start_revision``) or the start."""
    cursor = start_cursor
    revision = start_revision if start_cursor is not None else None
    attempt = 0
    first = True
    previous_ids: frozenset[object] = frozenset()
    while True:
        env = fetch(cursor)
        if env.revision is None:
            raise ContractViolation("page without a revision", system=SYSTEM)
        if revision is not None and env.revision != revision:
            attempt += 1
            if attempt > max_restarts:
                raise InconsistentRead(
                    f"revision kept changing during the read ({max_restarts} restarts)",
                    system=SYSTEM,
                )
            cursor, revision, first, previous_ids = None, None, True, frozenset()
            continue
        revision = env.revision
        items = _items(env)
        kept = [it for it in items if it["id"] not in previous_ids]
        previous_ids = frozenset(it["id"] for it in items)
        yield RawPage(kept, env.next_cursor, revision, attempt, first, len(items) - len(kept))
        if env.next_cursor is None:
            return
        cursor = env.next_cursor
        first = False


def _items(env: Envelope) -> list[dict[str, Any]]:
    data = env.data
    if not isinstance(data, list):
        raise ContractViolation("page data is not a list", system=SYSTEM)
    for item in data:
        if not isinstance(item, dict) or "id" not in item:
            raise ContractViolation("page item without an id", system=SYSTEM)
    return data
