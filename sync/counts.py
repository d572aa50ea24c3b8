"""Counts per entity and outcome for a run record: a pull's outcomes (:data:`OUTCOMES`) and a
push's (:data:`PUSH_OUTCOMES`), each in its own words."""

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

#: what became of a push's items: ``sent`` counts the items put on the wire in the run; each
#: item then has one outcome — taken by the system (``created``, ``updated``, ``deleted``),
#: already there under its key (``duplicate``), held by the system already so never sent
#: (``settled``), refused (``rejected``), sent and ``awaiting`` a receipt, or ``failed``: the
#: outcome unknown or the item could not go out (sent again with the same key later)
PUSH_OUTCOMES = (
    "sent",
    "created",
    "updated",
    "deleted",
    "duplicate",
    "settled",
    "rejected",
    "awaiting",
    "failed",
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
