"""Write import packages and read receipts (квитанции).

An import package carries one entity's records in the export's element and attribute names,
each with ``ВнешнийИд`` (the gateway's idempotency key), and ``<Итог Записей>``; it is encoded
in windows-1251 (a character the encoding lacks is written as a character reference).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from lxml import etree

from connectors.asiou._stream import BadEncoding, EntityDeclared, PackageStream, PrologTooLong
from connectors.asiou._wire import (
    CONTRACT_NAMES,
    ENCODING,
    EXTERNAL_ID,
    MEMBER,
    MEMBER_PUPIL,
    MEMBERS,
    ROOT,
    TOTAL,
    TOTAL_COUNT,
    WireNames,
)
from connectors.base import PushItem
from core.entities import Entity
from core.errors import ContractViolation

SYSTEM = "asiou"
VERSION = "2.3"
STATUS_DONE = "обработан"


def _attrs(pairs: dict[str, str]) -> str:
    return "".join(f" {name}={quoteattr(value)}" for name, value in pairs.items())


def external_id(item: PushItem) -> str:
    """The item's ``ВнешнийИд``: the record's own key, so that a later version sent before a pull
    has linked the record to its АСИОУ ``Ид`` replaces the earlier one instead of adding a second
    record (the version's idempotency key when the caller gives no record key)."""
    return item.record_key or item.key


def record_xml(entity: Entity, item: PushItem, names: WireNames = CONTRACT_NAMES) -> str:
    """One record element of an import package."""
    attrs: dict[str, str] = {EXTERNAL_ID: external_id(item)}
    if item.remote_id:
        attrs[names.id_attr] = item.remote_id
    members: list[str] = []
    for name, value in item.payload.items():
        if name.startswith("_") or name in (EXTERNAL_ID, names.id_attr):
            continue
        if name == MEMBERS:
            members = [str(m) for m in value or ()]
            continue
        attrs[name] = "" if value is None else str(value)
    if item.op == "delete":
        attrs[names.deleted_attr] = "1"
    element = names.element_of[entity]
    if not members:
        return f"<{element}{_attrs(attrs)}/>"
    inner = "".join(f"<{MEMBER}{_attrs({MEMBER_PUPIL: m})}/>" for m in members)
    return f"<{element}{_attrs(attrs)}>{inner}</{element}>"


def build_import(
    school: str, entity: Entity, items: Sequence[PushItem], names: WireNames = CONTRACT_NAMES
) -> bytes:
    """The windows-1251 bytes of an import package for ``items``, in ``names``."""
    head = _attrs({"Версия": VERSION, "Школа": school, "Источник": "gateway"})
    body = "".join(record_xml(entity, item, names) for item in items)
    container = names.containers[entity]
    text = (
        f'<?xml version="1.0" encoding="{ENCODING}"?>\n'
        f"<{ROOT}{head}><{container}>{body}</{container}>"
        f'<{TOTAL} {TOTAL_COUNT}="{len(items)}"/></{ROOT}>'
    )
    return text.encode(ENCODING, errors="xmlcharrefreplace")


@dataclass(frozen=True)
class Receipt:
    """A receipt: its id, status and — once processed — the rejected keys with their reasons."""

    id: str
    status: str
    accepted: int | None = None
    rejected: int | None = None
    errors: dict[str, str] | None = None

    @property
    def done(self) -> bool:
        return self.status == STATUS_DONE


_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def parse_receipt(body: bytes, encoding: str = ENCODING) -> Receipt:
    """``<Квитанция Ид Статус [Принято Отклонено]><Ошибка ВнешнийИд Код Текст/>…</Квитанция>``.

    A receipt without an XML declaration is read in ``encoding`` (the HTTP charset, by default
    windows-1251); the checks and fixes of export packages apply here too (a UTF-16 receipt is
    decoded, entities are refused after decoding, a BOM and ``cp1251`` are read).
    """
    try:
        body = PackageStream([body], encoding=encoding).read_all()
    except EntityDeclared:
        raise ContractViolation("a receipt declares entities", system=SYSTEM) from None
    except (BadEncoding, PrologTooLong) as exc:
        raise ContractViolation(f"a receipt: {exc}", system=SYSTEM) from None
    try:
        root = etree.fromstring(body, _SAFE)
    except etree.XMLSyntaxError as exc:
        raise ContractViolation(f"a receipt is not well-formed: {exc.msg}", system=SYSTEM) from None
    rid, status = root.get("Ид"), root.get("Статус")
    if root.tag != "Квитанция" or not rid or not status:
        raise ContractViolation("a receipt lacks <Квитанция Ид Статус>", system=SYSTEM)
    errors: dict[str, str] = {}
    for err in root.iter("Ошибка"):
        key = err.get(EXTERNAL_ID)
        if key:
            errors[key] = f"{err.get('Код', '')}: {err.get('Текст', '')}".strip()
    return Receipt(
        id=rid,
        status=status,
        accepted=_int(root.get("Принято")),
        rejected=_int(root.get("Отклонено")),
        errors=errors,
    )
