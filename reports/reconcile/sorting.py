"""An external sort with bounded memory, and a merge of two id-ordered streams.

The system hands out its records in its own order; the store streams its rows in id order. To
merge the two, the system's side is sorted by gateway id: up to ``run_size`` items are kept in
memory, sorted, and written to a temporary file as pickled blocks; reading merges the runs, one
block of each in memory at a time. A small read never touches the disk.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import IO, Any, TypeVar

T = TypeVar("T")
S = TypeVar("S")
_KEY = itemgetter(0)


class SortedSpill:
    """Tuples whose first element is their key, handed back sorted by it (equal keys in the
    order they were added)."""

    def __init__(self, run_size: int = 50_000, block: int = 2_000) -> None:
        self.run_size = run_size
        self.block = block
        self._buffer: list[tuple[Any, ...]] = []
        self._runs: list[IO[bytes]] = []
        self.count = 0

    def add(self, item: tuple[Any, ...]) -> None:
        self._buffer.append(item)
        self.count += 1
        if len(self._buffer) >= self.run_size:
            self._spill()

    def _spill(self) -> None:
        self._buffer.sort(key=_KEY)
        run = tempfile.TemporaryFile(prefix="schoolgate-reconcile-")  # noqa: SIM115 (closed by close())
        buf, step = self._buffer, self.block
        for start in range(0, len(buf), step):
            pickle.dump(buf[start : start + step], run, protocol=pickle.HIGHEST_PROTOCOL)
        run.seek(0)
        self._runs.append(run)
        self._buffer = []

    @property
    def runs(self) -> int:
        """How many runs went to disk."""
        return len(self._runs)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        self._buffer.sort(key=_KEY)
        if not self._runs:
            yield from self._buffer
            return
        streams: list[Iterable[tuple[Any, ...]]] = [_read(run) for run in self._runs]
        streams.append(self._buffer)
        yield from heapq.merge(*streams, key=_KEY)

    def close(self) -> None:
        for run in self._runs:
            run.close()
        self._runs = []
        self._buffer = []

    def __enter__(self) -> SortedSpill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read(run: IO[bytes]) -> Iterator[tuple[Any, ...]]:
    while True:
        try:
            block: list[tuple[Any, ...]] = pickle.load(run)
        except EOFError:
            return
        yield from block


def merge(
    left: Iterator[T],
    right: Iterator[S],
    left_key: Callable[[T], str],
    right_key: Callable[[S], str],
) -> Iterator[tuple[T | None, S | None]]:
    """Pairs of two streams sorted by key: ``(l, r)`` when the keys are equal, ``(l, None)`` or
    ``(None, r)`` for a key only one side has. Each side's keys must be strictly ascending
    (see :func:`last_of_each`)."""
    sentinel = object()
    lv: Any = next(left, sentinel)
    rv: Any = next(right, sentinel)
    while lv is not sentinel or rv is not sentinel:
        if rv is sentinel:
            yield lv, None
            lv = next(left, sentinel)
            continue
        if lv is sentinel:
            yield None, rv
            rv = next(right, sentinel)
            continue
        lk, rk = left_key(lv), right_key(rv)
        if lk == rk:
            yield lv, rv
            lv = next(left, sentinel)
            rv = next(right, sentinel)
        elif lk < rk:
            yield lv, None
            lv = next(left, sentinel)
        else:
            yield None, rv
            rv = next(right, sentinel)


def last_of_each(items: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """A key-sorted stream with each key once: of items sharing a key, the last (a record a
    system sent twice in one read counts once, as it was read last)."""
    sentinel: Any = object()
    held: Any = sentinel
    for item in items:
        if held is not sentinel and item[0] != held[0]:
            yield held
        held = item
    if held is not sentinel:
        yield held
