"""Real connectors with one fault added on purpose, and a push run that can be driven in time.

``Faulty`` wraps a connector built from the configuration (talking to a simulator over loopback)
and, on the batch it is told to, drops an item from the answer, raises after the batch reached
the system, or raises before it did — what a timeout, a reset or a bug looks like from here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from connectors.base import Capabilities, Connector, Page, PushItem, PushResult, State
from core.entities import Entity
from store.types import utcnow
from sync import jobs
from sync.push import Backoff, Pusher
from sync.runs import RunReport
from tests.sync.worlds import World


class Faulty:
    """``inner`` with a fault on its ``on``-th push call (1-based)."""

    def __init__(
        self,
        inner: Connector,
        *,
        on: int = 1,
        drop: int | None = None,
        after: BaseException | None = None,
        before: BaseException | None = None,
        answer: Callable[[list[PushResult]], list[PushResult]] | None = None,
        batch: int | None = None,
        poll: Callable[[Sequence[str]], list[PushResult]] | None = None,
    ) -> None:
        self.inner = inner
        self.system = inner.system
        self.on = on
        self.drop = drop
        self.after = after
        self.before = before
        self.answer = answer
        self.batch = batch
        self._poll = poll
        self.calls = 0
        self.sent: list[list[str]] = []

    def capabilities(self) -> Capabilities:
        caps = self.inner.capabilities()
        return dataclasses.replace(caps, push_batch_size=self.batch) if self.batch else caps

    def push(self, entity: Entity, items: Sequence[PushItem]) -> list[PushResult]:
        self.calls += 1
        faulty = self.calls == self.on
        if faulty and self.before is not None:
            raise self.before
        self.sent.append([i.key for i in items])
        results = self.inner.push(entity, items)
        if not faulty:
            return results
        if self.after is not None:
            raise self.after
        if self.drop is not None:
            results = [r for n, r in enumerate(results) if n != self.drop]
        if self.answer is not None:
            results = self.answer(results)
        return results

    def poll(self, tickets: Sequence[str]) -> list[PushResult]:
        if self._poll is not None:
            return self._poll(tickets)
        return self.inner.poll(tickets)

    def check(self) -> None:
        self.inner.check()

    def pull(self, entity: Entity | None, state: State | None) -> Iterator[Page]:
        return self.inner.pull(entity, state)

    def close(self) -> None:
        self.inner.close()


class Clock:
    """A clock a test moves forward."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: Any) -> None:
        self.now += dt.timedelta(**delta)


def push_with(
    world: World,
    system: str = "es2",
    *,
    clock: Clock | None = None,
    **faults: Any,
) -> tuple[RunReport, Faulty]:
    """One push run of ``system`` through a :class:`Faulty` connector."""
    job = jobs.open_job(world.store, world.school_config.setup(system))
    connector = Faulty(job.connector, **faults)
    try:
        pusher = Pusher(
            world.store,
            connector,
            job.mapper,
            school_id=world.school_config.id,
            system=system,
            backoff=Backoff(),
            clock=clock or Clock(),
        )
        return pusher.run(), connector
    finally:
        job.close()
