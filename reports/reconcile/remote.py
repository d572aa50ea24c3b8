"""Reading a system afresh for a reconciliation: every page of a full read through its connector,
each wire record mapped to a canonical record and its ids looked up — read-only — in the
identity map. Nothing is linked, minted, queued or applied: a record the identity map does not
know stays unknown (it is *only in the system*).

Pages are fetched ahead in a thread (:func:`sync.prefetch.prefetch`), so the mapping of one page
runs while the next is on its way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from connectors.base import Connector, Page
from core.entities import PULL_ORDER, Entity, split_ext_ref
from core.errors import RecordError
from mapping.mapper import Mapper
from mapping.model import Record, Subgroup, Tombstone
from store import Tx
from store.codec import CODECS
from sync.prefetch import prefetch

#: entities whose identity links are looked up page by page (many; nothing refers to them)
LEAVES = frozenset({Entity.MARKS, Entity.FINAL_MARKS, Entity.ATTENDANCE})


@dataclass(frozen=True, slots=True)
class Seen:
    """One record as the system holds it: its gateway id (``None``: the identity map does not
    know it), its id in the system, its content in JSON form with references as gateway ids
    (an unknown one stays ``"<system>:<id>"``) and the hash of that content."""

    gid: str | None
    ext: str | None
    content: dict[str, Any]
    content_hash: str


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A wire record the mapping refused: the system holds something the gateway cannot take."""

    ext: str | None
    field: str | None
    reason: str


class ReadOnlyResolver:
    """External references → gateway ids from the identity map, never writing to it."""

    def __init__(self, tx: Tx, school_id: str, system: str) -> None:
        self.tx = tx
        self.school_id = school_id
        self.system = system
        self._links: dict[Entity, dict[str, str]] = {}

    def _map(self, entity: Entity) -> dict[str, str]:
        found = self._links.get(entity)
        if found is None:
            found = self._links[entity] = self.tx.identity.links_of(
                self.school_id, self.system, entity
            )
        return found

    def _ref(self, target: Entity, value: str) -> str:
        parts = split_ext_ref(value)
        if parts is None or parts[0] != self.system:
            return value
        return self._map(target).get(parts[1], value)

    def resolve(self, entity: Entity, records: list[Record]) -> list[Seen]:
        """The page's records as :class:`Seen`, references as gateway ids where the identity
        map knows them. The records are the mapping's, made for this page and held by nothing
        else: their references are set in place (a content hash taken before is dropped)
        rather than copied."""
        own: dict[str, str] = {}
        exts = [p[1] for r in records if (p := split_ext_ref(r.id)) is not None]
        if entity in LEAVES:
            own = self.tx.identity.lookup(self.school_id, self.system, entity, exts) if exts else {}
        elif exts:
            own = self._map(entity)
        content = CODECS[entity].content
        out: list[Seen] = []
        prefix = f"{self.system}:"
        cut = len(prefix)
        #: the reference fields of the page's records and the links each is looked up in
        ref_maps: list[tuple[str, dict[str, str]]] | None = None
        for rec in records:
            parts = split_ext_ref(rec.id)
            if parts is None:  # the mapping found the record itself (by name): a gateway id
                gid: str | None = rec.id
                ext = rec.ext_ids.get(self.system)
            else:
                ext = parts[1]
                gid = own.get(ext)
            if ref_maps is None:
                ref_maps = [(name, self._map(target)) for name, target in rec.refs.items()]
            changes: dict[str, Any] = {}
            values = rec.__dict__
            for name, links in ref_maps:
                value = values[name]
                if isinstance(value, str) and value.startswith(prefix):
                    found = links.get(value[cut:])
                    if found is not None:
                        changes[name] = found
            if isinstance(rec, Subgroup) and rec.member_ids:
                changes["member_ids"] = tuple(
                    sorted(self._ref(Entity.PUPILS, m) for m in rec.member_ids)
                )
            if changes:
                values.update(changes)
                values.pop("content_hash", None)
            out.append(Seen(gid, ext, content(rec), rec.content_hash))
        return out


def pages(connector: Connector, entities: list[Entity]) -> Iterator[Page]:
    """Every page of a full read of ``entities`` (a bundled system: one read of everything,
    pages of other entities left out), fetched ahead in a thread."""
    caps = connector.capabilities()
    if caps.bundled:
        wanted = set(entities)
        source: Iterator[Page] = (p for p in connector.pull(None, None) if p.entity in wanted)
    else:
        source = (page for e in entities for page in connector.pull(e, None))
    stream = prefetch(source)
    with contextlib.closing(stream):
        yield from stream


def readable(
    connector: Connector, asked: frozenset[Entity] | None
) -> tuple[list[Entity], list[Entity]]:
    """The entities to compare, in pull order, and those asked for that the system cannot be
    read for."""
    can = connector.capabilities().pull
    wanted = [e for e in PULL_ORDER if asked is None or e in asked]
    return [e for e in wanted if e in can], [e for e in wanted if e not in can]


def map_page(mapper: Mapper, page: Page) -> tuple[list[Record], list[Unreadable]]:
    """The page's canonical records (one per id: a record read twice counts once, the last),
    and what the mapping refused. Deletions a full read may carry are left out: what is
    deleted is not there."""
    records: dict[str, Record] = {}
    refused: list[Unreadable] = []
    for wire in page.records:
        try:
            item = mapper.to_canonical(page.entity, wire)
        except RecordError as exc:
            refused.append(Unreadable(exc.record_id, exc.field, exc.reason))
            continue
        if isinstance(item, Tombstone):
            records.pop(item.id, None)
            continue
        records.pop(item.id, None)
        records[item.id] = item
    return list(records.values()), refused
