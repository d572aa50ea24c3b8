"""Read-ahead keeps order, passes errors through in place, and stops its reader with the consumer."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from sync.prefetch import prefetch


def test_order_and_completeness() -> None:
    assert list(prefetch(iter(range(1000)), depth=3)) == list(range(1000))
    assert list(prefetch(iter([]))) == []


def test_error_arrives_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("page 3 failed")

    got = []
    with pytest.raises(ValueError, match="page 3"):
        for x in prefetch(source()):
            got.append(x)
    assert got == [1, 2]


def test_reader_runs_in_another_thread_and_stops_with_the_consumer() -> None:
    threads: set[str] = set()
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            for i in range(10_000):
                threads.add(threading.current_thread().name)
                yield i
        finally:
            closed.set()

    it = prefetch(source(), depth=2)
    assert next(it) == 0
    it.close()  # the consumer gives up early
    assert closed.wait(5), "the reader was not stopped"
    assert threads == {"schoolgate-prefetch"}
