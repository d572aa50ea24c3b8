"""Snapshot scopes of one pull: what the store holds in a completely read scope and the read
lacked no longer exists at the source, and is deleted.

A scope (the whole entity, a date window, a class in a window) may span many pages and units;
the ids seen in it are collected until its ``complete`` page, 16 bytes each
(:class:`sync.seen.SeenIds`), and merged then with the store's ids of the scope in id order. A
scope in which a record was refused deletes nothing (the refused record might be one of the
"missing"), and neither does a first read of an entity: when the school had no records of it
linked to this system before the run, every linked record of the scope was seen in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from connectors.base import Page, Scope
from core.entities import Entity
from store import Tx
from sync.seen import SeenIds

ScopeKey = tuple[Entity, str]


@dataclass
class _Open:
    scope: Scope
    seen: SeenIds = field(default_factory=SeenIds)
    tainted: bool = False


class SnapshotTracker:
    """The snapshot scopes a pull has open, for one (school, system)."""

    def __init__(self, school_id: str, system: str) -> None:
        self.school_id = school_id
        self.system = system
        self._open: dict[ScopeKey, _Open] = {}
        #: per entity: whether the school had records linked to this system before the run
        self._linked_before: dict[Entity, bool] = {}

    def first_read(self, tx: Tx, entity: Entity) -> None:
        """Before the run first applies a snapshot page of ``entity``: note whether the school
        had records of it linked to this system (if not, the run links all it sees)."""
        if entity not in self._linked_before:
            self._linked_before[entity] = tx.matching.has_linked(
                entity, self.school_id, self.system
            )

    def note(self, page: Page, ids: Iterable[str], *, tainted: bool) -> None:
        """``ids`` were read on ``page`` (a snapshot page); ``tainted``: a record was refused
        or set waiting (it might be one of the "missing")."""
        entity = page.entity
        scope = self._open.setdefault((entity, page.scope.key), _Open(page.scope))
        if self._linked_before.get(entity, True):  # a first read deletes nothing: ids not kept
            scope.seen.update(ids)
        scope.tainted |= tainted

    def ending(self, page: Page) -> list[ScopeKey]:
        """The scopes ``page`` completes: its own; for the complete page of an atomic unit (a
        whole package) every scope the unit read."""
        if not page.complete:
            return []
        if page.atomic:
            return list(self._open)
        key = (page.entity, page.scope.key)
        return [key] if key in self._open else []

    def close(self, tx: Tx, key: ScopeKey) -> set[str]:
        """Close a completely read scope: the ids this system knows in it that it lacked."""
        done = self._open.pop(key)
        entity = key[0]
        if done.tainted or not self._linked_before.get(entity, True):
            return set()
        filters: dict[str, object] = {}
        if done.scope.date_from is not None:
            filters["date_from"] = done.scope.date_from
        if done.scope.date_to is not None:
            filters["date_to"] = done.scope.date_to
        if done.scope.class_id is not None:
            ext = done.scope.class_id
            gid = tx.identity.lookup(self.school_id, self.system, Entity.CLASSES, [ext]).get(ext)
            if gid is None:
                return set()  # a class we do not know yet holds nothing of ours
            filters["class_id"] = gid
        # only records this system knows can disappear from it
        return done.seen.missing(
            tx.records.iter_ids_in_scope(entity, self.school_id, linked_to=self.system, **filters)
        )
