"""Gateway ids for one system's records during a run (the imperative half of identity).

A cache over the identity map for the entities others refer to (roster, lessons); leaf entities
(marks, final marks, attendance) are looked up page by page so memory stays flat. A record seen
for the first time gets a new gateway id — except people, who are first matched against the
school's pupils or teachers (:mod:`sync.matching`): one match links, several or a near miss go to
the review queue and the record waits there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mapping.identity import resolve
from mapping.model import Entity, Pupil, Record, Subgroup, Teacher, Tombstone, split_ext_ref
from schoolgate.errors import RecordError
from store import Tx
from sync.ids import new_gid
from sync.matching import PeopleIndex

LEAVES = frozenset({Entity.MARKS, Entity.FINAL_MARKS, Entity.ATTENDANCE})
PEOPLE = frozenset({Entity.PUPILS, Entity.TEACHERS})

#: how a record first seen from one system is recognised among what others already brought
MATCH_KEYS: dict[Entity, tuple[str, ...]] = {
    Entity.PERIODS: ("kind", "start", "end"),
    Entity.SUBJECTS: ("name",),
    Entity.CLASSES: ("year", "name"),
    Entity.SUBGROUPS: ("class_id", "subject_id", "name"),
    Entity.LESSONS: ("class_id", "subgroup_id", "subject_id", "date", "number"),
    Entity.MARKS: ("pupil_id", "lesson_id", "work_type"),
    Entity.FINAL_MARKS: ("pupil_id", "subject_id", "period_id", "kind"),
    Entity.ATTENDANCE: ("pupil_id", "lesson_id"),
}
#: new records per entity and run that are matched without first asking whether any could be
FEW = 5000
_PENDING = "\x00pending"


@dataclass
class Resolved:
    items: list[Record | Tombstone] = field(default_factory=list)
    #: new identity links to write with the page: (external id, gid)
    new_links: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, RecordError]] = field(default_factory=list)


class IdentityResolver:
    def __init__(self, system: str, school_id: str) -> None:
        self.system = system
        self.school_id = school_id
        self._cache: dict[tuple[Entity, str], str] = {}
        self._people: dict[Entity, PeopleIndex] = {}
        self._linked_people: dict[Entity, set[str]] = {}
        self._has: dict[Entity, bool] = {}
        self._first_seen_count: dict[Entity, int] = {}

    def reset(self) -> None:
        """Drop everything cached (after a rolled-back unit, minted ids are gone)."""
        self._cache.clear()
        self._people.clear()
        self._linked_people.clear()
        self._has.clear()

    def resolve_page(self, tx: Tx, entity: Entity, items: Sequence[Record | Tombstone]) -> Resolved:
        out = Resolved()
        local: dict[tuple[Entity, str], str] = {}
        self._prefetch(tx, entity, items, local)

        def lookup(system: str, target: Entity, ext: str) -> str | None:
            if system != self.system:
                return None
            return self._cache.get((target, ext)) or local.get((target, ext))

        unmatched: list[tuple[Record, str]] = []
        for item in items:
            parts = split_ext_ref(item.id)
            if parts is None and isinstance(item, Record):
                # the mapping found the record itself (by name, against the roster): a system
                # that gives no id of its own for it; nothing to link
                try:
                    out.items.append(resolve(item, lookup))
                except RecordError as exc:
                    out.errors.append((item.id, exc))
                continue
            if parts is None or parts[0] != self.system:
                out.errors.append(
                    (
                        item.id,
                        RecordError(
                            "id is not from this system",
                            entity=entity,
                            record_id=item.id,
                            system=self.system,
                        ),
                    )
                )
                continue
            ext = parts[1]
            gid = lookup(self.system, entity, ext)
            if isinstance(item, Tombstone):
                if gid is not None:
                    out.items.append(item.model_copy(update={"id": gid}))
                continue
            try:
                if gid is None and entity in PEOPLE:
                    gid = self._first_seen_person(tx, entity, item, ext, out)
                    if gid is None:
                        continue
                    self._remember(entity, ext, gid, local)
                    out.new_links.append((ext, gid))
                if gid is None:
                    unmatched.append((resolve(item, lookup, lambda *_: _PENDING), ext))
                else:
                    out.items.append(resolve(item, lookup))
            except RecordError as exc:
                out.errors.append((ext, exc))
        if unmatched:
            for rec, ext, gid in self._match(tx, entity, unmatched):
                self._remember(entity, ext, gid, local)
                out.new_links.append((ext, gid))
                out.items.append(_with_id(rec, gid))
        return out

    def _match(
        self, tx: Tx, entity: Entity, unmatched: Sequence[tuple[Record, str]]
    ) -> list[tuple[Record, str, str]]:
        """Gateway ids for records first seen: an unlinked store record with the same natural
        key (brought by another system) when there is exactly one, else a new id."""
        fields = MATCH_KEYS.get(entity)
        found: dict[tuple[object, ...], list[str]] = {}
        # a few new records (an incremental read): just look; many (a first read): look only if
        # the store holds records this system has no id for, which is one query per run
        seen = self._first_seen_count[entity] = self._first_seen_count.get(entity, 0) + len(
            unmatched
        )
        if fields and (seen <= FEW or self._store_has(tx, entity)):
            keys = [tuple(getattr(rec, f) for f in fields) for rec, _ in unmatched]
            found = tx.match_natural(entity, self.school_id, fields, keys)
            candidates = {g for ids in found.values() for g in ids}
            taken = set(tx.agreements(self.system, entity, candidates)) if candidates else set()
            found = {k: [g for g in ids if g not in taken] for k, ids in found.items()}
        out = []
        claimed: set[str] = set()
        for rec, ext in unmatched:
            ids = found.get(tuple(getattr(rec, f) for f in fields)) if fields else None
            unique = ids is not None and len(ids) == 1 and ids[0] not in claimed
            gid = ids[0] if unique and ids else new_gid()
            claimed.add(gid)
            out.append((rec, ext, gid))
        return out

    def _store_has(self, tx: Tx, entity: Entity) -> bool:
        """Whether anything in the store could match: records this system has no id for.
        Asked once per run — within a run only this system adds records, all linked to it."""
        known = self._has.get(entity)
        if known is None:
            known = tx.has_unlinked(entity, self.school_id, self.system)
            self._has[entity] = known
        return known

    def _remember(
        self, entity: Entity, ext: str, gid: str, local: dict[tuple[Entity, str], str]
    ) -> None:
        if entity in LEAVES:
            local[(entity, ext)] = gid
        else:
            self._cache[(entity, ext)] = gid

    def _prefetch(
        self,
        tx: Tx,
        entity: Entity,
        items: Sequence[Record | Tombstone],
        local: dict[tuple[Entity, str], str],
    ) -> None:
        wanted: dict[Entity, set[str]] = {}

        def want(target: Entity, ref: str | None) -> None:
            if ref is None:
                return
            parts = split_ext_ref(ref)
            if parts and parts[0] == self.system and (target, parts[1]) not in self._cache:
                wanted.setdefault(target, set()).add(parts[1])

        for item in items:
            want(entity, item.id)
            if isinstance(item, Record):
                for name, target in item.refs.items():
                    want(target, getattr(item, name))
                if isinstance(item, Subgroup):
                    for member in item.member_ids:
                        want(Entity.PUPILS, member)
        for target, exts in wanted.items():
            found = tx.lookup_ext(self.system, target, exts)
            for ext, gid in found.items():
                self._remember(target, ext, gid, local)

    def _first_seen_person(
        self, tx: Tx, entity: Entity, item: Record, ext: str, out: Resolved
    ) -> str | None:
        if entity not in PEOPLE or not isinstance(item, Pupil | Teacher):
            return new_gid()
        index = self._people.get(entity)
        if index is None:
            linked = tx.linked_gids(self.system, entity)
            self._linked_people[entity] = linked
            index = PeopleIndex(
                p
                for p in tx.iter_records(entity, self.school_id)
                if isinstance(p, Pupil | Teacher) and p.id not in linked
            )
            self._people[entity] = index
        status = tx.review_status(self.system, entity, ext)
        if status == "rejected":  # a person said: nobody here is this one
            return new_gid()
        if status == "open":
            out.errors.append(
                (
                    ext,
                    RecordError(
                        "waits in the identity review queue",
                        entity=entity,
                        record_id=ext,
                        system=self.system,
                    ),
                )
            )
            return None
        match = index.match(item)
        if match.kind == "link" and match.gid is not None:
            self._linked_people[entity].add(match.gid)
            return match.gid
        if match.kind == "create":
            return new_gid()
        tx.review_add(
            self.school_id, self.system, entity, ext, list(match.candidates), match.reason
        )
        out.errors.append(
            (
                ext,
                RecordError(
                    f"sent to identity review: {match.reason}",
                    entity=entity,
                    record_id=ext,
                    system=self.system,
                ),
            )
        )
        return None


def _with_id(rec: Record, gid: str) -> Record:
    """``rec`` with its pending id set to ``gid``. ``rec`` was made by :func:`resolve` for this
    page a moment ago and nothing else holds it, so the id is set in place instead of copying the
    record once more (an id is not content: a cached hash stays right)."""
    rec.__dict__["id"] = gid
    return rec
