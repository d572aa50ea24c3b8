"""Read an export package as a stream: wire records in atomic pages, integrity checked at the end.

Memory stays bounded whatever the package size: the package is fed in chunks to an lxml
parser with a *target* (SAX-style ``start(tag, attrib)`` callbacks), so no tree is ever built —
each record element's attributes arrive as a dict and go straight into the current page — and at
most two pages (the one being filled and the one held back so the last can be marked complete)
are held. (This is also faster than ``iterparse``: no element objects to create and clear.)

*Duplicates* — the same ``Ид`` twice for one entity in one package — resolve to the last one:
within a page the later record replaces the earlier one in place; a duplicate that falls in a
later page is simply yielded again there. Applying is an upsert in page order, so the last
occurrence wins either way, and only a page's id index is ever kept.

*Integrity* is known only at ``</Пакет>``: the closing tag must arrive and ``<Итог Записей>``
must equal the number of record elements read (duplicates included). Every page is ``atomic``;
when the check fails, :class:`~core.errors.ContractViolation` is raised *instead of*
yielding the last (``complete``) page, so a consumer that applies atomic units whole applies
nothing of the package.

*Security*: the parser never loads a DTD, never touches the network and never resolves entities;
a DOCTYPE declaring entities is refused before parsing, whatever the package's encoding (its
prolog is checked after decoding; see :mod:`._stream`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from lxml import etree

from connectors.asiou._stream import BadEncoding, EntityDeclared, PackageStream, PrologTooLong
from connectors.asiou._wire import (
    CONTRACT_NAMES,
    ELEMENT_KEY,
    MEMBER,
    MEMBER_PUPIL,
    MEMBERS,
    PACKAGE_ENTITIES,
    TOTAL,
    TOTAL_COUNT,
    YEAR_ELEMENT,
    YEAR_KEY,
    WireNames,
)
from connectors.base import Page, State, WireRecord
from core.entities import Entity
from core.errors import ContractViolation

SYSTEM = "asiou"
DEFAULT_CHUNK = 1000
FEED = 64 * 1024


def _violation(message: str) -> ContractViolation:
    return ContractViolation(message, system=SYSTEM)


def package_parser(target: Any) -> Any:
    """An lxml feed parser with every resolving feature off, calling ``target.start``."""
    return etree.XMLParser(
        target=target,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


@dataclasses.dataclass
class _Pager:
    """Collects records of one entity into pages, replacing duplicates within a page."""

    chunk_size: int
    state: State
    id_attr: str = CONTRACT_NAMES.id_attr
    entity: Entity | None = None
    full: bool = False
    records: list[WireRecord] = dataclasses.field(default_factory=list)
    index: dict[Any, int] = dataclasses.field(default_factory=dict)
    held: Page | None = None
    seen: set[Entity] = dataclasses.field(default_factory=set)

    def add(self, entity: Entity, record: WireRecord, ready: list[Page]) -> None:
        """Add a record; pages that are ready to go out are appended to ``ready``."""
        if entity is not self.entity:
            self.flush(ready)
            self.entity = entity
            self.seen.add(entity)
        rid = record.get(self.id_attr)
        at = self.index.get(rid) if rid is not None else None
        if at is None:
            if rid is not None:
                self.index[rid] = len(self.records)
            self.records.append(record)
        else:
            self.records[at] = record
        if len(self.records) >= self.chunk_size:
            self.flush(ready)

    def flush(self, ready: list[Page]) -> None:
        """Close the current page and hold it back; the page held before it becomes ready."""
        if self.entity is None or not self.records:
            return
        page = Page(
            entity=self.entity,
            records=self.records,
            state=self.state,
            snapshot=self.full,
            atomic=True,
        )
        self.records, self.index = [], {}
        if self.held is not None:
            ready.append(self.held)
        self.held = page


class _Collector:
    """The parser target: ``start`` of every element, in document order."""

    def __init__(self, pager: _Pager, only: Entity | None, names: WireNames) -> None:
        self.pager = pager
        self.only = only
        self.elements = names.record_elements
        self.root: dict[str, str] | None = None
        self.year: str | None = None
        self.total: str | None = None
        self.counted = 0
        self.members: list[str] | None = None  # of the subgroup being read
        self.ready: list[Page] = []

    def start(self, tag: str, attrib: dict[str, Any]) -> None:
        entity = self.elements.get(tag)
        if entity is not None:
            self.counted += 1
            self.members = None
            if self.only is None or entity is self.only:
                attrib[ELEMENT_KEY] = tag
                if entity is Entity.SUBGROUPS:
                    self.members = attrib[MEMBERS] = []
                elif entity is Entity.CLASSES and self.year is not None:
                    attrib[YEAR_KEY] = self.year
                self.pager.add(entity, attrib, self.ready)
        elif tag == MEMBER:
            if self.members is not None:
                self.members.append(attrib.get(MEMBER_PUPIL, ""))
        elif self.root is None:
            self.root = dict(attrib)
            self.pager.full = attrib.get("Полный") == "1"
        elif tag == TOTAL:
            self.total = attrib.get(TOTAL_COUNT)
        elif tag == YEAR_ELEMENT:
            self.year = attrib.get("Код") or None

    def close(self) -> None:
        return None


def iter_pages(
    chunks: Iterable[bytes],
    *,
    state: State | None = None,
    only: Entity | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    names: WireNames = CONTRACT_NAMES,
) -> Iterator[Page]:
    """Pages of wire records from the package bytes in ``chunks``; see the module docstring.

    ``state`` is the state the pull started from: every page but the last carries it (it is only
    replaced once the whole package is known good). ``only`` keeps one entity's records.
    ``names``: the record elements and id attribute, as the system's profile names them.
    """
    pager = _Pager(chunk_size=chunk_size, state=dict(state or {}), id_attr=names.id_attr)
    target = _Collector(pager, only, names)
    parser = package_parser(target)
    stream = PackageStream(chunks)
    try:
        while data := stream.read(FEED):
            parser.feed(data)
            if target.ready:
                yield from target.ready
                target.ready.clear()
        parser.close()
    except etree.XMLSyntaxError as exc:
        raise _violation(f"the package is cut short or not well-formed: {exc.msg}") from None
    except EntityDeclared:
        raise _violation("the package declares entities; refused without parsing") from None
    except (PrologTooLong, BadEncoding) as exc:
        raise _violation(str(exc)) from None
    yield from target.ready
    yield from _finish(pager, target.root, target.total, target.counted, only)


def _finish(
    pager: _Pager,
    root: dict[str, str] | None,
    total: str | None,
    counted: int,
    only: Entity | None,
) -> Iterator[Page]:
    if root is None:
        raise _violation("the package holds no root element")
    if total is None:
        raise _violation("the package has no <Итог Записей>: cut short")
    if not total.isdigit() or int(total) != counted:
        raise _violation(f"<Итог Записей={total!r}> but the package holds {counted} records")
    formed = root.get("Сформирован")
    if not formed:
        raise _violation("the package has no Сформирован time")
    new_state: State = {"since": formed, "revision": root.get("Ревизия")}
    ready: list[Page] = []
    pager.flush(ready)
    yield from ready
    last = pager.held
    pager.held = None
    wanted = (only,) if only is not None else PACKAGE_ENTITIES
    if pager.full:  # every entity of a full package appears, so its absence can delete
        for entity in wanted:
            if entity not in pager.seen:
                if last is not None:
                    yield last
                last = Page(
                    entity=entity, records=[], state=pager.state, snapshot=True, atomic=True
                )
    if last is None:
        last = Page(entity=wanted[-1], records=[], state=pager.state, atomic=True)
    yield dataclasses.replace(last, state=new_state, complete=True)
