"""Holds: pulls too dangerous to apply without a person (DESIGN decision 7). Pure.

A pull that would deactivate more than a configured share of a school's pupils — a roster export
that lost a parallel, a school code mixed up — or a full pull that returns no pupils at all, applies
nothing of that roster and waits for ``schoolgate holds approve|discard``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mapping.model import Pupil, Record, Tombstone


@dataclass(frozen=True, slots=True)
class HoldReason:
    code: str  # "mass_deactivation" | "empty_roster"
    detail: str
    deactivated: int
    active_before: int


def pupil_hold(
    incoming: Iterable[Record | Tombstone],
    active_now: Mapping[str, bool],
    *,
    full: bool,
    missing: Iterable[str] = (),
    threshold: float,
) -> HoldReason | None:
    """Why the pupil changes of one pull must wait, or ``None``.

    ``active_now`` maps every stored pupil id of the school to whether it is active; ``missing``
    lists stored pupils a complete snapshot lacked (they would be deleted).
    """
    active_before = sum(1 for active in active_now.values() if active)
    seen = 0
    deactivated: set[str] = set()
    for item in incoming:
        if isinstance(item, Tombstone):
            if active_now.get(item.id):
                deactivated.add(item.id)
            continue
        if isinstance(item, Pupil):
            seen += 1
            if item.status == "left" and active_now.get(item.id):
                deactivated.add(item.id)
    deactivated.update(pid for pid in missing if active_now.get(pid))
    if full and seen == 0 and active_before > 0:
        return HoldReason(
            "empty_roster",
            f"a full pull returned no pupils while {active_before} are active",
            len(deactivated),
            active_before,
        )
    if active_before and len(deactivated) / active_before > threshold:
        share = len(deactivated) / active_before
        return HoldReason(
            "mass_deactivation",
            f"{len(deactivated)} of {active_before} active pupils ({share:.0%}) would leave or "
            f"disappear; the limit is {threshold:.0%}",
            len(deactivated),
            active_before,
        )
    return None


class PupilGuard:
    """Collects one unit's pupil changes and tells whether they must be held.

    ``active`` is read from the store when the unit first meets pupils; ``full`` says the unit
    reads the whole roster (a snapshot, a full pull, or a first pull), so that an empty answer
    means "no pupils at all"."""

    def __init__(self, active: Mapping[str, bool], *, full: bool) -> None:
        self.active = active
        self.full = full
        self.incoming: list[Record | Tombstone] = []
        self.missing: set[str] = set()

    def verdict(self, threshold: float) -> HoldReason | None:
        return pupil_hold(
            self.incoming, self.active, full=self.full, missing=self.missing, threshold=threshold
        )
