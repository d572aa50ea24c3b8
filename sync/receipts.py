"""Reading the receipts of asynchronous pushes so that one bad receipt costs only its own items.

A connector's ``poll`` answers a list of tickets at once. When that fails because of one
receipt — the system lost it (404), or answers garbage — the tickets are halved and polled again
until the unreadable ones stand alone; every other ticket still gets its answer. A fault of the
system itself (unreachable, overloaded, credentials refused) is not a receipt's fault: it stops
the poll, and every ticket waits for the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog

from connectors.base import PushResult
from core.errors import AuthError, TransientError
from sync.runs import describe_error

log = structlog.get_logger("sync.receipts")

Poll = Callable[[Sequence[str]], list[PushResult]]

#: faults of the system, not of a receipt: they stop the poll
STOPS = (TransientError, AuthError)


@dataclass
class Receipts:
    """What the receipts said, and the tickets whose receipt could not be read (with why)."""

    results: list[PushResult] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)


def read_receipts(poll: Poll, tickets: Sequence[str]) -> Receipts:
    """Poll ``tickets``; isolate the ones whose receipt cannot be read (see the module)."""
    out = Receipts()
    _read(poll, list(tickets), out)
    if out.unreadable:
        log.warning("receipts could not be read", count=len(out.unreadable))
    return out


def _read(poll: Poll, tickets: list[str], out: Receipts) -> None:
    if not tickets:
        return
    try:
        out.results.extend(poll(tickets))
        return
    except STOPS:
        raise
    except Exception as exc:
        if len(tickets) == 1:
            out.unreadable[tickets[0]] = describe_error(exc)
            return
    mid = len(tickets) // 2
    _read(poll, tickets[:mid], out)
    _read(poll, tickets[mid:], out)
