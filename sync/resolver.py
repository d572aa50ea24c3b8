"""Gateway ids for one system's records during a run (the imperative half of identity).

A cache over the identity map for the entities others refer to (roster, lessons); leaf entities
(marks, final marks, attendance) are looked up page by page so memory stays flat. A record seen
for the first time gets a new gateway id — except people, who are first matched against the
school's pupils or teachers (:mod:`sync.matching`): one match links, several or a near miss go to
the review queue and the record waits there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from core.entities import Entity
from core.errors import MissingReference, RecordError, SentToReview
from mapping.identity import Lookup, resolve, unknown_ref
from mapping.model import Pupil, Record, Subgroup, Teacher, Tombstone
from mapping.notes import FieldNote
from store import Tx
from sync.ids import new_gid, new_gids
from sync.matching import PeopleIndex, PersonKey, person_key

LEAVES = frozenset({Entity.MARKS, Entity.FINAL_MARKS, Entity.ATTENDANCE})
#: entities whose identity links are looked up page by page, never cached for the run: the
#: leaves, and lessons (a year of them grows with the school; a page of marks names a few
#: hundred, read in one query), so a pull's memory stays flat whatever the school's size
PAGED = LEAVES | {Entity.LESSONS}
PEOPLE = frozenset({Entity.PUPILS, Entity.TEACHERS})

#: how a record first seen from one system is recognised among what others already brought;
#: the store looks up by the first field (a string column, indexed where the table is large)
MATCH_KEYS: dict[Entity, tuple[str, ...]] = {
    Entity.PERIODS: ("kind", "start", "end"),
    Entity.SUBJECTS: ("name",),
    Entity.CLASSES: ("year", "name"),
    Entity.SUBGROUPS: ("class_id", "subject_id", "name"),
    Entity.LESSONS: ("class_id", "subgroup_id", "subject_id", "date", "number"),
    Entity.MARKS: ("lesson_id", "pupil_id", "work_type"),
    Entity.FINAL_MARKS: ("pupil_id", "subject_id", "period_id", "kind"),
    Entity.ATTENDANCE: ("lesson_id", "pupil_id"),
}
#: new records per entity and run that are matched without first asking whether any could be
FEW = 5000
#: references to look up at once past which a cached entity's whole identity map is read instead
#: (an incremental read of marks names lessons from all over the year, page after page)
WHOLE = 500
_PENDING = "\x00pending"


class RunLinks:
    """The external references of one entity this run has linked, as a bitmap of their hashes.

    A first read of a paged entity (the identity map held none of its links when the run began)
    would otherwise ask the map for every id of every page — and find none, bar the few a
    system sends twice. With the bitmap only the ids the run may have linked are asked for: a
    set bit can be another id's (then the map says no), a clear one is never wrong. One
    megabyte, whatever the school's size."""

    BITS = 1 << 23

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS >> 3)

    def add(self, refs: Iterable[str]) -> None:
        bits, mask = self._bits, self.BITS - 1
        for ref in refs:
            h = hash(ref) & mask
            bits[h >> 3] |= 1 << (h & 7)

    def may_hold(self, ref: str) -> bool:
        h = hash(ref) & (self.BITS - 1)
        return bool(self._bits[h >> 3] >> (h & 7) & 1)


@dataclass
class Resolved:
    items: list[Record | Tombstone] = field(default_factory=list)
    #: new identity links to write with the page: (external id, gid)
    new_links: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, RecordError]] = field(default_factory=list)
    #: records that refer to one the gateway does not have yet, as read (unresolved)
    waiting: list[tuple[Record, MissingReference]] = field(default_factory=list)
    #: gateway ids minted for this page: records the store cannot hold yet
    minted: set[str] = field(default_factory=set)


class IdentityResolver:
    def __init__(self, system: str, school_id: str, *, paged: frozenset[Entity] = PAGED) -> None:
        self.system = system
        self.school_id = school_id
        #: looked up page by page (a dry run, whose units roll back, passes :data:`LEAVES`: the
        #: lessons it minted exist only in this cache)
        self._paged = paged
        self._prefix = f"{system}:"
        #: per entity: external reference (``"es2:55001"``) → gateway id
        self._cache: dict[Entity, dict[str, str]] = {}
        self._people: dict[Entity, PeopleIndex] = {}
        self._linked_people: dict[Entity, set[str]] = {}
        self._has: dict[Entity, bool] = {}
        self._first_seen_count: dict[Entity, int] = {}
        #: paged entities: the links this run made, for one the identity map held none of when
        #: the run began (``None``: it held some, or a unit rolled back — every id is asked for)
        self._run_links: dict[Entity, RunLinks | None] = {}
        #: people first seen from this system in this run, by matching key → their gateway ids
        self._run_people: dict[Entity, dict[PersonKey, list[str]]] = {}
        #: cached entities whose every link is in the cache: a reference not there is unknown
        self._complete: set[Entity] = set()

    def reset(self) -> None:
        """Drop everything cached (after a rolled-back unit, minted ids are gone)."""
        self._cache.clear()
        self._people.clear()
        self._linked_people.clear()
        self._has.clear()
        self._complete.clear()
        # links of the units committed before stay in the map, unknown to a new bitmap
        self._run_links = dict.fromkeys(self._run_links)

    def resolve_page(self, tx: Tx, entity: Entity, items: Sequence[Record | Tombstone]) -> Resolved:
        out = Resolved()
        known = self._known(tx, entity, items)
        prefix = self._prefix

        def lookup(system: str, target: Entity, ext: str) -> str | None:
            table = known.get(target) or self._cache.get(target, {})
            return table.get(f"{system}:{ext}")

        own = known[entity]
        unmatched: list[tuple[Record, str]] = []
        alike = _alike(items, own) if entity in PEOPLE else Counter()
        for item in items:
            ref = item.id
            if not ref.startswith(prefix):
                if ":" not in ref and isinstance(item, Record):
                    # the mapping found the record itself (by name, against the roster): a
                    # system that gives no id of its own for it; nothing to link
                    try:
                        out.items.append(resolve(item, lookup))
                    except MissingReference as exc:
                        out.waiting.append((item, exc))
                    except RecordError as exc:
                        out.errors.append((ref, exc))
                    continue
                out.errors.append(
                    (
                        ref,
                        RecordError(
                            "id is not from this system",
                            entity=entity,
                            record_id=ref,
                            system=self.system,
                        ),
                    )
                )
                continue
            ext = ref[len(prefix) :]
            gid = own.get(ref)
            if isinstance(item, Tombstone):
                if gid is not None:
                    out.items.append(item.model_copy(update={"id": gid}))
                continue
            try:
                if gid is None and entity in PEOPLE:
                    same = alike[person_key(item)] if isinstance(item, Pupil | Teacher) else 1
                    gid = self._first_seen_person(tx, entity, item, ext, out, same)
                    if gid is None:
                        continue
                    own[ref] = gid
                    out.new_links.append((ext, gid))
                if gid is None:
                    unmatched.append((_resolved(item, _PENDING, known, lookup), ext))
                else:
                    out.items.append(_resolved(item, gid, known, lookup))
            except MissingReference as exc:
                out.waiting.append((item, exc))
            except RecordError as exc:
                out.errors.append((ext, exc))
        if unmatched:
            for rec, ext, gid, fresh in self._match(tx, entity, unmatched):
                if fresh:
                    out.minted.add(gid)
                own[prefix + ext] = gid
                out.new_links.append((ext, gid))
                out.items.append(_with_id(rec, gid))
        run_links = self._run_links.get(entity)
        if run_links is not None:
            run_links.add(prefix + ext for ext, _ in out.new_links)
        return out

    def _match(
        self, tx: Tx, entity: Entity, unmatched: Sequence[tuple[Record, str]]
    ) -> list[tuple[Record, str, str, bool]]:
        """Gateway ids for records first seen: an unlinked store record with the same natural
        key (brought by another system) when there is exactly one, else a new id (marked
        ``True``)."""
        fields = MATCH_KEYS.get(entity)
        found: dict[tuple[object, ...], list[str]] = {}
        # a few new records (an incremental read): just look; many (a first read): look only if
        # the store holds records this system has no id for, which is one query per run
        seen = self._first_seen_count[entity] = self._first_seen_count.get(entity, 0) + len(
            unmatched
        )
        if fields and (seen <= FEW or self._store_has(tx, entity)):
            keys = [tuple(getattr(rec, f) for f in fields) for rec, _ in unmatched]
            found = tx.matching.match_natural(entity, self.school_id, fields, keys)
            candidates = {g for ids in found.values() for g in ids}
            taken = (
                set(tx.identity.agreements(self.system, entity, candidates))
                if candidates
                else set()
            )
            found = {k: [g for g in ids if g not in taken] for k, ids in found.items()}
        chosen: list[str | None] = []
        claimed: set[str] = set()
        for rec, _ in unmatched:
            ids = found.get(tuple(getattr(rec, f) for f in fields)) if found and fields else None
            if ids is not None and len(ids) == 1 and ids[0] not in claimed:
                claimed.add(ids[0])
                chosen.append(ids[0])
            else:
                chosen.append(None)
        minted = iter(new_gids(chosen.count(None)))  # the new ids, reserved in one go
        return [
            (rec, ext, gid, False) if gid is not None else (rec, ext, next(minted), True)
            for (rec, ext), gid in zip(unmatched, chosen, strict=True)
        ]

    def _store_has(self, tx: Tx, entity: Entity) -> bool:
        """Whether anything in the store could match: records this system has no id for.
        Asked once per run — within a run only this system adds records, all linked to it."""
        known = self._has.get(entity)
        if known is None:
            known = tx.matching.has_unlinked(entity, self.school_id, self.system)
            self._has[entity] = known
        return known

    def _known(
        self, tx: Tx, entity: Entity, items: Sequence[Record | Tombstone]
    ) -> dict[Entity, dict[str, str]]:
        """External reference → gateway id for the page's records and what they refer to: the
        run's cache, topped up from the identity map in one query per entity. Leaf entities
        (marks …) are not cached across pages, so memory stays flat."""
        prefix = self._prefix
        known: dict[Entity, dict[str, str]] = {}
        wanted: dict[Entity, set[str]] = {}

        def table(target: Entity) -> dict[str, str]:
            found = known.get(target)
            if found is None:
                found = known[target] = (
                    {} if target in self._paged else self._cache.setdefault(target, {})
                )
            return found

        def want(target: Entity, refs: AbstractSet[str | None]) -> None:
            have = table(target)
            if target in self._complete:
                return
            cut = len(prefix)
            exts = {
                ref[cut:]
                for ref in refs
                if ref is not None and ref not in have and ref.startswith(prefix)
            }
            if exts:
                wanted.setdefault(target, set()).update(exts)

        own = {i.id for i in items}
        run_links = self._first_read(tx, entity)
        if run_links is not None:  # the map holds only what this run linked
            own = set(filter(run_links.may_hold, own))
        want(entity, own)
        records = [i for i in items if isinstance(i, Record)]
        classes = {type(r) for r in records}
        for cls in classes:
            # each reference once: a page of marks names a few hundred lessons and pupils
            same = records if len(classes) == 1 else [r for r in records if type(r) is cls]
            for name, target in cls.refs.items():
                want(target, {r.__dict__[name] for r in same})
            if entity is Entity.SUBGROUPS:
                want(Entity.PUPILS, {m for r in same for m in getattr(r, "member_ids", ())})
        for target, exts in wanted.items():
            have = table(target)
            if target not in self._paged and len(exts) >= WHOLE:
                # many at once: the whole map in one read, then no more lookups this run (links
                # made later in the run go into the cache as they are made)
                found = tx.identity.links_of(self.school_id, self.system, target)
                self._complete.add(target)
            else:
                found = tx.identity.lookup(self.school_id, self.system, target, exts)
            for ext, gid in found.items():
                have[prefix + ext] = gid
        return known

    def _first_read(self, tx: Tx, entity: Entity) -> RunLinks | None:
        """The run's links of ``entity`` when the identity map held none of it as the run
        began (paged entities only; decided at the entity's first page)."""
        if entity not in self._paged:
            return None
        if entity not in self._run_links:
            fresh = not tx.identity.has_links(self.school_id, self.system, entity)
            self._run_links[entity] = RunLinks() if fresh else None
        return self._run_links[entity]

    def _first_seen_person(
        self, tx: Tx, entity: Entity, item: Record, ext: str, out: Resolved, alike: int
    ) -> str | None:
        """A gateway id for a person this system brings for the first time: a match among the
        store's people, a new one, or ``None`` (sent to the review queue). ``alike``: how many
        people of this read share the person's key (ФИО, birth date, СНИЛС)."""
        if entity not in PEOPLE or not isinstance(item, Pupil | Teacher):
            return new_gid()
        index = self._people.get(entity)
        if index is None:
            linked = tx.identity.linked_gids(self.school_id, self.system, entity)
            self._linked_people[entity] = linked
            index = PeopleIndex(
                p
                for p in tx.records.iter(entity, self.school_id)
                if isinstance(p, Pupil | Teacher) and p.id not in linked
            )
            self._people[entity] = index
        status = tx.reviews.status(self.school_id, self.system, entity, ext)
        if status == "rejected":  # a person said: nobody here is this one
            return self._seen_person(entity, item, new_gid())
        if status == "open":
            out.errors.append(
                (
                    ext,
                    SentToReview(
                        "waits in the identity review queue",
                        entity=entity,
                        record_id=ext,
                        system=self.system,
                    ),
                )
            )
            return None
        match = index.match(item)
        key = person_key(item)
        earlier = self._run_people.get(entity, {}).get(key, [])
        if alike > 1 or earlier:
            # this system holds more than one person with the same ФИО (and birth date, and no
            # СНИЛС to tell them apart): none of them is linked on a guess
            if match.kind == "create":
                gid = self._seen_person(entity, item, new_gid())
                if earlier:
                    tx.reviews.add(
                        self.school_id, self.system, entity, ext, list(earlier),
                        "kept apart: the same ФИО and birth date as another person, and no "
                        "СНИЛС to tell them apart; please confirm they are different people",
                    )  # fmt: skip
                return gid
            reason = f"{max(alike, len(earlier) + 1)} people in {self.system} share this name"
            self._to_review(tx, entity, ext, (*match.candidates, *earlier), reason, out)
            return None
        if match.kind == "link" and match.gid is not None:
            self._linked_people[entity].add(match.gid)
            return self._seen_person(entity, item, match.gid)
        if match.kind == "create":
            return self._seen_person(entity, item, new_gid())
        self._to_review(tx, entity, ext, match.candidates, match.reason, out)
        return None

    def _seen_person(self, entity: Entity, item: Pupil | Teacher, gid: str) -> str:
        self._run_people.setdefault(entity, {}).setdefault(person_key(item), []).append(gid)
        return gid

    def _to_review(
        self,
        tx: Tx,
        entity: Entity,
        ext: str,
        candidates: Sequence[str],
        reason: str,
        out: Resolved,
    ) -> None:
        tx.reviews.add(self.school_id, self.system, entity, ext, sorted(set(candidates)), reason)
        out.errors.append(
            (
                ext,
                SentToReview(
                    f"sent to identity review: {reason}",
                    entity=entity,
                    record_id=ext,
                    candidates=tuple(sorted(set(candidates))),
                    system=self.system,
                ),
            )
        )


def _alike(items: Sequence[Record | Tombstone], own: dict[str, str]) -> Counter[PersonKey]:
    """How many of the page's first-seen people share each matching key."""
    return Counter(
        person_key(i) for i in items if isinstance(i, Pupil | Teacher) and i.id not in own
    )


def _with_id(rec: Record, gid: str) -> Record:
    """``rec`` with its pending id set to ``gid``. ``rec`` was made by :func:`resolve` for this
    page a moment ago and nothing else holds it, so the id is set in place instead of copying the
    record once more (an id is not content: a cached hash stays right)."""
    rec.__dict__["id"] = gid
    return rec


def _resolved(
    item: Record, gid: str, known: dict[Entity, dict[str, str]], lookup: Lookup
) -> Record:
    """``item`` with ``gid`` as its id and gateway ids in its reference fields: what
    :func:`mapping.identity.resolve` does, with the page's lookups already at hand.

    The record is the mapping's, made for this page: it is resolved in place rather than copied
    (its fields stay valid — a reference is any non-empty string — and a content hash taken
    before is dropped). Nothing is changed until every reference is found, so a record that
    waits for one (:class:`MissingReference`) stays as read."""
    if isinstance(item, Subgroup):  # member lists too: the general way
        return resolve(item, lookup, lambda *_: gid)
    values = item.__dict__
    changes: dict[str, object] = {"id": gid}
    notes: list[FieldNote] = []
    for name, target in item.refs.items():
        ref = values[name]
        if ref is None:
            continue
        found = known[target].get(ref)
        if found is None:
            if ":" not in ref:
                continue  # already a gateway id
            if name in item.soft_refs:  # who taught a lesson: left empty, noted
                changes[name] = None
                notes.append(unknown_ref(item, name, target, ref))
                continue
            raise MissingReference(
                entity=item.entity, record_id=item.id, field=name, target=target, ref=ref
            )
        changes[name] = found
    if notes:
        changes["_field_notes"] = (*item.field_notes, *notes)
    if len(changes) > 1:
        values.pop("content_hash", None)  # the content changed: hashed afresh
    values.update(changes)
    object.__setattr__(
        item, "__pydantic_fields_set__", item.__pydantic_fields_set__ | changes.keys()
    )
    return item
