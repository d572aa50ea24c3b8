"""The ids a pull read in one snapshot scope, held in 16 bytes each.

A complete read deletes what the store holds in its scope and the read lacked, so the ids read
are kept until the scope's last page. As a set of ``str`` they cost about 110 bytes each — 47 MB
for a second full package of a large school (issue 19: 196 MB peak against 142 MB for the
first). Gateway ids are 32 lowercase hex digits: here each page's are packed into 16 bytes apiece
and sorted, one block per page; any other id (a test's, an old store's) goes to a small set. At
the close, the store's ids of the scope, streamed in id order, are merged with the blocks (hex
text sorts as its bytes do), so what the read lacked is found without unpacking them all at once.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

#: bytes of a packed gateway id (32 hex digits)
_WIDTH = 16


class SeenIds:
    """The ids read in one scope: 16 bytes per gateway id, a set for any other."""

    def __init__(self) -> None:
        self._blocks: list[bytes] = []
        self._other: set[str] = set()

    def update(self, ids: Iterable[str]) -> None:
        """``ids`` were read (one page's, or any number; an id read twice is kept twice)."""
        packed: list[bytes] = []
        other = self._other
        fromhex = bytes.fromhex
        for i in ids:
            if len(i) == 2 * _WIDTH:
                try:
                    raw = fromhex(i)
                except ValueError:
                    other.add(i)
                    continue
                if raw.hex() == i:  # lowercase, no spaces: its text is its bytes' hex
                    packed.append(raw)
                    continue
            other.add(i)
        if packed:
            packed.sort()
            self._blocks.append(b"".join(packed))

    def __len__(self) -> int:
        return self.held_bytes // _WIDTH + len(self._other)

    @property
    def held_bytes(self) -> int:
        """The packed ids' size (the blocks' payload; the set of other ids not counted)."""
        return sum(len(b) for b in self._blocks)

    def missing(self, ordered: Iterable[str]) -> set[str]:
        """Those of ``ordered`` — ids in ascending ``str`` order — that were not read."""
        other = self._other
        read = heapq.merge(*(_unpacked(b) for b in self._blocks))
        current = next(read, None)
        out: set[str] = set()
        for i in ordered:
            if i in other:
                continue
            while current is not None and current < i:
                current = next(read, None)
            if current != i:
                out.add(i)
        return out


def _unpacked(block: bytes) -> Iterator[str]:
    for start in range(0, len(block), _WIDTH):
        yield block[start : start + _WIDTH].hex()
