"""The counts of a reconciliation: per entity and per class × subject, how many records matched
(also: only after normalising text), differed, were only on one side, unreadable, or already on
their way; and per class × subject the worst differences (for the summary)."""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from typing import Any

from core.entities import Entity
from reports.reconcile.places import Place

OUTCOMES = ("matched", "different", "only_store", "only_system", "unreadable", "pending")
WORST = 3

Bucket = tuple[str | None, str | None]


class Tally:
    def __init__(self) -> None:
        self.entities: dict[str, Counter[str]] = {}
        self.buckets: dict[Bucket, Counter[str]] = {}
        self._worst: dict[Bucket, list[tuple[int, int, dict[str, Any]]]] = {}
        self._seq = itertools.count()

    def _add(self, entity: Entity, place: Place, outcome: str, n: int = 1) -> None:
        counts = self.entities.get(entity.value)
        if counts is None:
            counts = self.entities[entity.value] = Counter()
        counts[outcome] += n
        key = (place.class_id, place.subject_id)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Counter()
        bucket[outcome] += n

    def note(self, entity: Entity, what: str, n: int = 1) -> None:
        """A count that is no outcome: records read from each side, spelling-only matches,
        records a system sent twice."""
        counts = self.entities.get(entity.value)
        if counts is None:
            counts = self.entities[entity.value] = Counter()
        counts[what] += n

    def matched(self, entity: Entity, place: Place, *, normalised: bool = False) -> None:
        self._add(entity, place, "matched")
        if normalised:
            self.note(entity, "normalised")

    def difference(
        self, entity: Entity, place: Place, section: str, severity: int, brief: dict[str, Any]
    ) -> None:
        self._add(entity, place, section)
        heap = self._worst.setdefault((place.class_id, place.subject_id), [])
        entry = (severity, -next(self._seq), brief)
        if len(heap) < WORST:
            heapq.heappush(heap, entry)
        elif entry[:2] > heap[0][:2]:
            heapq.heapreplace(heap, entry)

    def total(self, outcome: str) -> int:
        return sum(c[outcome] for c in self.entities.values())

    def as_json(self) -> dict[str, Any]:
        buckets = []
        for (class_id, subject_id), counts in self.buckets.items():
            worst = sorted(self._worst.get((class_id, subject_id), []), reverse=True)
            buckets.append(
                {
                    "class_id": class_id,
                    "subject_id": subject_id,
                    **{o: counts[o] for o in OUTCOMES},
                    "worst": [brief for _, _, brief in worst],
                }
            )
        return {
            "entities": {e: dict(c) for e, c in self.entities.items()},
            "buckets": buckets,
        }
