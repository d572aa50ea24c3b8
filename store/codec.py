"""Canonical records ⇄ table rows, content in JSON form, fast content hashes and natural keys.

:func:`Codec.encode` turns a record into its row and content hash in one pass. The hash is the
canonical :attr:`mapping.model.Record.content_hash` (blake2b of the sorted, compact JSON of the
content fields), computed here without a per-record ``model_dump`` because the store hashes
every record of every batch; ``tests/store/test_codec.py`` checks that the two always agree.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import operator
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping

from mapping.model import META_FIELDS, MODELS, Entity, Record
from mapping.values import MarkValue

#: Fields naming a record when it is gone: what a feed tombstone carries. Never personal data.
NATURAL_KEYS: dict[Entity, tuple[str, ...]] = {
    Entity.SCHOOLS: (),
    Entity.YEARS: ("name",),
    Entity.PERIODS: ("kind", "start", "end"),
    Entity.SUBJECTS: ("name",),
    Entity.TEACHERS: (),
    Entity.CLASSES: ("year", "name"),
    Entity.PUPILS: (),
    Entity.ENROLMENTS: ("pupil_id", "kind", "date"),
    Entity.SUBGROUPS: ("class_id", "subject_id", "name"),
    Entity.LESSONS: ("class_id", "subgroup_id", "subject_id", "date", "number"),
    Entity.MARKS: ("pupil_id", "lesson_id"),
    Entity.FINAL_MARKS: ("pupil_id", "subject_id", "period_id", "kind"),
    Entity.ATTENDANCE: ("pupil_id", "lesson_id"),
}

Converter = Callable[[Any], Any] | None


def _leaf_types(annotation: Any) -> set[Any]:
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaf_types(args[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_leaf_types(a) for a in args))
    if origin is not None:
        return {origin}
    return {annotation}


def _iso(v: dt.date) -> str:
    return v.isoformat()


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_ESCAPE: Callable[[str], str] = json.encoder.encode_basestring


def _json_value(v: Any) -> str:
    """``json.dumps(v, ensure_ascii=False)`` for one value, quick for the common scalars."""
    t = type(v)
    if t is str:
        return _ESCAPE(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return int.__repr__(v)
    return _ENCODER.encode(v)


def canonical_json(content: Mapping[str, Any]) -> str:
    """Sorted, compact JSON, byte for byte what :attr:`Record.content_hash` hashes."""
    return _ENCODER.encode(dict(sorted(content.items())))


def _converters(annotation: Any) -> tuple[Converter, Converter]:
    """(to a column value, to its JSON form) for a field; ``None`` means as is.

    Converters are never called with ``None`` (an absent optional value stays ``None``)."""
    leaves = _leaf_types(annotation) - {type(None)}
    if MarkValue in leaves:
        return str, str
    if any(isinstance(t, type) and issubclass(t, enum.Enum) for t in leaves):
        as_value = operator.attrgetter("value")
        return as_value, as_value
    if tuple in leaves:
        return list, list
    if dt.date in leaves:
        return None, _iso
    return None, None


@dataclass(frozen=True)
class Codec:
    """How one entity's records become rows and back."""

    entity: Entity
    model: type[Record]
    content_fields: tuple[str, ...]  # sorted, as the canonical hash sorts them
    extra_fields: tuple[str, ...]  # stored model fields outside the content (Mark.created_at)
    to_db: Mapping[str, Converter]
    to_json: Mapping[str, Converter]
    natural_key: tuple[str, ...]

    @classmethod
    def for_entity(cls, entity: Entity) -> Codec:
        model = MODELS[entity]
        fields = model.model_fields
        content = tuple(sorted(f for f in fields if f not in META_FIELDS))
        extra = tuple(
            f
            for f in fields
            if f in META_FIELDS and f not in ("id", "school_id", "ext_ids", "modified_at")
        )
        convs = {f: _converters(fields[f].annotation) for f in content}
        return cls(
            entity=entity,
            model=model,
            content_fields=content,
            extra_fields=extra,
            to_db={f: c[0] for f, c in convs.items()},
            to_json={f: c[1] for f, c in convs.items()},
            natural_key=NATURAL_KEYS[entity],
        )

    def content(self, record: Record) -> dict[str, Any]:
        """The record's content in JSON form (equal to ``record.content()``)."""
        values = record.__dict__
        out: dict[str, Any] = {}
        for f, conv in self.to_json.items():
            v = values[f]
            out[f] = v if conv is None or v is None else conv(v)
        return out

    @property
    def encoder(self) -> Callable[[Record], tuple[dict[str, Any], str]]:
        """:meth:`encode` without the method call, for loops over many records."""
        return _ENCODERS[self.entity]

    def encode(self, record: Record) -> tuple[dict[str, Any], str]:
        """The row (without ``content_hash``/``version``/``deleted_at``) and the content hash."""
        return _ENCODERS[self.entity](record)

    def row_content(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON-form content of a stored row (for audit and conflicts)."""
        out: dict[str, Any] = {}
        for f in self.content_fields:
            v = row[f]
            out[f] = v.isoformat() if isinstance(v, dt.date) else v
        return out

    def key_of(self, content: Mapping[str, Any]) -> dict[str, Any] | None:
        if not self.natural_key:
            return None
        return {f: content[f] for f in self.natural_key}

    def decode(self, row: Mapping[str, Any] | RowMapping) -> Record:
        data = {f: row[f] for f in self.content_fields + self.extra_fields}
        data["id"] = row["id"]
        data["school_id"] = row["school_id"]
        data["ext_ids"] = row["ext_ids"] or {}
        data["modified_at"] = row["modified_at"]
        return self.model.model_validate(data)


CODECS: dict[Entity, Codec] = {e: Codec.for_entity(e) for e in MODELS}


def _compile_encoder(codec: Codec) -> Callable[[Record], tuple[dict[str, Any], str]]:
    """A function made for one entity: the row and the hash in one pass, no generic loops.

    It builds the same JSON text as :func:`canonical_json` of the record's content (field names
    sorted, compact separators, non-ASCII kept), so the hash is the canonical one.
    """
    env: dict[str, Any] = {
        "_J": _json_value, "_E": _ESCAPE, "_H": hashlib.blake2b, "_I": int.__repr__
    }  # fmt: skip
    lines = ["def encode(r):", "    v = r.__dict__"]
    row = ['"id": v["id"]', '"school_id": v["school_id"]', '"ext_ids": v["ext_ids"]']
    row += ['"modified_at": v["modified_at"]'] + [f'"{f}": v["{f}"]' for f in codec.extra_fields]
    parts: list[str] = []
    for i, f in enumerate(codec.content_fields):
        leaves = _leaf_types(codec.model.model_fields[f].annotation)
        optional = type(None) in leaves
        guard = f"None if x{i} is None else " if optional else ""
        lines.append(f'    x{i} = v["{f}"]')
        db, js = codec.to_db[f], codec.to_json[f]
        if db is js is None:
            lines.append(f"    j{i} = x{i}")
        elif db is js:  # one conversion serves both
            env[f"_db{i}"] = db
            lines.append(f"    x{i} = j{i} = {guard}_db{i}(x{i})")
        else:
            env[f"_db{i}"], env[f"_js{i}"] = db, js
            lines.append(f"    j{i} = {guard}_js{i}(x{i})")
            if db is not None:
                lines.append(f"    x{i} = {guard}_db{i}(x{i})")
        if leaves == {str} or (js is str and not optional):
            lines.append(f"    s{i} = _E(j{i})")  # always a str here
        elif leaves == {int}:
            lines.append(f"    s{i} = _I(j{i})")
        else:
            lines.append(f"    s{i} = _J(j{i})")
        row.append(f'"{f}": x{i}')
        parts.append(f"'{'{' if i == 0 else ','}\"{f}\":' + s{i}")
    payload = " + ".join(parts) + " + '}'" if parts else "'{}'"
    lines.append(f"    payload = {payload}")
    lines.append(
        "    return {" + ", ".join(row) + "}, _H(payload.encode(), digest_size=16).hexdigest()"
    )
    exec("\n".join(lines), env)  # the source is built from field names of our own models
    fn: Callable[[Record], tuple[dict[str, Any], str]] = env["encode"]
    return fn


_ENCODERS = {e: _compile_encoder(c) for e, c in CODECS.items()}


def content_hash(record: Record) -> str:
    """The canonical content hash, computed the store's fast way."""
    return CODECS[record.entity].encode(record)[1]
