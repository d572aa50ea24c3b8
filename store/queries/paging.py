"""Pages of a listing: the rows asked for, the total that matched, where the page starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int = 0

    @property
    def more(self) -> int:
        """How many matched beyond this page."""
        return max(0, self.total - self.offset - len(self.items))
