"""Read an export package as a stream: wire records in atomic pages, integrity checked at the end.

Memory stays bounded whatever the package size: each record element is turned into a dict and
cleared at its end event, the siblings before it are deleted, and at most two pages (the one
being filled and the one held back so the last can be marked complete) are held.

*Duplicates* — the same ``Ид`` twice for one entity in one package — resolve to the last one:
within a page the later record replaces the earlier one in place; a duplicate that falls in a
later page is simply yielded again there. Applying is an upsert in page order, so the last
occurrence wins either way, and only a page's id index is ever kept.

*Integrity* is known only at ``</Пакет>``: the closing tag must arrive and ``<Итог Записей>``
must equal the number of record elements read (duplicates included). Every page is ``atomic``;
when the check fails, :class:`~schoolgate.errors.ContractViolation` is raised *instead of*
yielding the last (``complete``) page, so a consumer that applies atomic units whole applies
nothing of the package.

*Security*: the parser never loads a DTD, never touches the network and never resolves entities;
a DOCTYPE declaring entities is refused before parsing (see :mod:`._stream`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from lxml import etree

from connectors.asiou._stream import EntityDeclared, PackageStream, PrologTooLong
from connectors.asiou._wire import (
    ELEMENT_KEY,
    ID,
    MEMBER,
    MEMBER_PUPIL,
    MEMBERS,
    PACKAGE_ENTITIES,
    RECORD_ELEMENTS,
    TOTAL,
    TOTAL_COUNT,
    YEAR_ELEMENT,
    YEAR_KEY,
)
from connectors.base import Page, State, WireRecord
from mapping.model import Entity
from schoolgate.errors import ContractViolation

SYSTEM = "asiou"
DEFAULT_CHUNK = 2000
_TAGS = (*RECORD_ELEMENTS, YEAR_ELEMENT, TOTAL)


def _violation(message: str) -> ContractViolation:
    return ContractViolation(message, system=SYSTEM)


def package_parser(stream: Any) -> Iterator[tuple[str, Any]]:
    """lxml's ``iterparse`` with every resolving feature off."""
    return etree.iterparse(  # type: ignore[no-any-return]
        stream,
        events=("end",),
        tag=_TAGS,
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
    entity: Entity | None = None
    full: bool = False
    records: list[WireRecord] = dataclasses.field(default_factory=list)
    index: dict[Any, int] = dataclasses.field(default_factory=dict)
    held: Page | None = None
    seen: set[Entity] = dataclasses.field(default_factory=set)

    def add(self, entity: Entity, record: WireRecord) -> list[Page]:
        """Add a record; return the pages that are ready to go out (usually none)."""
        ready: list[Page] = []
        if entity is not self.entity:
            self.flush(ready)
            self.entity = entity
            self.seen.add(entity)
        rid = record.get(ID)
        at = self.index.get(rid) if rid is not None else None
        if at is None:
            if rid is not None:
                self.index[rid] = len(self.records)
            self.records.append(record)
        else:
            self.records[at] = record
        if len(self.records) >= self.chunk_size:
            self.flush(ready)
        return ready

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


def iter_pages(
    chunks: Iterable[bytes],
    *,
    state: State | None = None,
    only: Entity | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> Iterator[Page]:
    """Pages of wire records from the package bytes in ``chunks``; see the module docstring.

    ``state`` is the state the pull started from: every page but the last carries it (it is only
    replaced once the whole package is known good). ``only`` keeps one entity's records.
    """
    pager = _Pager(chunk_size=chunk_size, state=dict(state or {}))
    root: Any = None
    year: str | None = None
    total: str | None = None
    counted = 0
    stream = PackageStream(chunks)
    try:
        for _, elem in package_parser(stream):
            tag = elem.tag
            entity = RECORD_ELEMENTS.get(tag)
            if root is None:
                root = elem.getroottree().getroot()
                pager.full = root.get("Полный") == "1"
            if entity is None:
                if tag == TOTAL:
                    total = elem.get(TOTAL_COUNT)
                elif tag == YEAR_ELEMENT:
                    year = elem.get("Код") or None
                elem.clear()
                continue
            counted += 1
            if only is None or entity is only:
                record: WireRecord = dict(elem.attrib)
                record[ELEMENT_KEY] = tag
                if entity is Entity.SUBGROUPS:
                    record[MEMBERS] = [m.get(MEMBER_PUPIL) for m in elem if m.tag == MEMBER]
                elif entity is Entity.CLASSES and year is not None:
                    record[YEAR_KEY] = year
                ready = pager.add(entity, record)
                if ready:
                    yield from ready
            elem.clear()
            parent = elem.getparent()
            while elem.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        raise _violation(f"the package is cut short or not well-formed: {exc.msg}") from None
    except EntityDeclared:
        raise _violation("the package declares entities; refused without parsing") from None
    except PrologTooLong as exc:
        raise _violation(str(exc)) from None
    yield from _finish(pager, root, total, counted, only)


def _finish(
    pager: _Pager, root: Any, total: str | None, counted: int, only: Entity | None
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
