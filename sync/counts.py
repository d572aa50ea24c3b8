"""Counts per entity and outcome for a run record."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

OUTCOMES = (
    "created",
    "updated",
    "deleted",
    "unchanged",
    "conflicts",
    "rejected",
    "waiting",
    "review",
    "duplicates",
    "held",
)


@dataclass
class RunCounts:
    by_entity: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, entity: str, outcome: str, n: int = 1) -> None:
        if n:
            row = self.by_entity[entity]
            row[outcome] = row.get(outcome, 0) + n

    def total(self, outcome: str) -> int:
        return sum(row.get(outcome, 0) for row in self.by_entity.values())

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {e: dict(sorted(r.items())) for e, r in sorted(self.by_entity.items())}

    def merge(self, other: RunCounts) -> None:
        for entity, row in other.by_entity.items():
            for outcome, n in row.items():
                self.add(entity, outcome, n)
