"""Read ahead: the next pages are fetched (HTTP, parsing) in a thread while the current ones are
mapped and written. The connector's iterator runs wholly in that thread; errors surface in the
consumer, in order, and the reader stops when the consumer does. :class:`EntityStream` hands out
a stream of pages tagged with their entity one entity at a time."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

from connectors.base import Page
from core.entities import Entity

T = TypeVar("T")
_DONE = object()


def prefetch(source: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    q: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[bool, object]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put((True, item)):
                    break
            else:
                put((True, _DONE))
        except BaseException as exc:  # handed to the consumer, raised there
            put((False, exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="schoolgate-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                assert isinstance(item, BaseException)
                raise item
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=30)


class EntityStream:
    """``(entity, page)`` pairs in entity order, taken one entity at a time."""

    def __init__(self, source: Iterator[tuple[Entity, Page]]) -> None:
        self._source = source
        self._next: tuple[Entity, Page] | None = None

    def pages_of(self, entity: Entity) -> Iterator[Page]:
        while True:
            if self._next is None:
                self._next = next(self._source, None)
                if self._next is None:
                    return
            if self._next[0] is not entity:
                return
            page = self._next[1]
            self._next = None
            yield page
