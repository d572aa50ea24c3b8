"""Gateway ids: time-ordered UUIDs (version 7, RFC 9562), as 32 hex digits.

A new id sorts after every id this process minted before it — a millisecond timestamp, then a
counter that carries on within the same millisecond (RFC 9562 §6.2, method 1) — so the records
of a first sync go to the end of the store's primary-key and identity-map indexes instead of
random places in them; the counter starts at a random value each millisecond and the last 32 bits are random, so ids
minted by two processes in the same millisecond stay distinct.
"""

from __future__ import annotations

import os
import random
import threading
import time

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62
_COUNTER_BITS = 42  # 12 bits of rand_a, then the top 30 bits of rand_b
_LOW30 = (1 << 30) - 1


class _Clock:
    """The last millisecond an id was minted in, and the counter within it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms = -1
        self.counter = 0

    def tick(self, n: int = 1) -> tuple[int, int]:
        """Reserve ``n`` consecutive (millisecond, counter) slots; returns the first."""
        with self.lock:
            ms = time.time_ns() // 1_000_000
            if ms > self.ms:
                self.ms = ms
                # a random start, with headroom for many ids in one millisecond
                self.counter = int.from_bytes(os.urandom(6)) >> (48 - _COUNTER_BITS + 1)
            else:  # the same millisecond, or the clock went back: count on from the last one
                self.counter += 1
            if (self.counter + n - 1) >> _COUNTER_BITS:  # spent: borrow the next millisecond
                self.ms += 1
                self.counter = 0
            first = (self.ms, self.counter)
            self.counter += n - 1
            return first


_CLOCK = _Clock()


def new_gid() -> str:
    """A new gateway id."""
    return new_gids(1)[0]


def new_gids(n: int) -> list[str]:
    """``n`` new gateway ids, in minting order (one reservation for them all)."""
    if n <= 0:
        return []
    ms, counter = _CLOCK.tick(n)
    stamp = (ms & ((1 << 48) - 1)) << 80 | _VERSION | _VARIANT
    rand = random.getrandbits  # the module reseeds itself in a forked child
    return [
        f"{stamp | (c >> 30) << 64 | (c & _LOW30) << 32 | rand(32):032x}"
        for c in range(counter, counter + n)
    ]
