"""Canonical records ⇄ table rows, content in JSON form, fast content hashes and natural keys.

:func:`Codec.encode` turns a record into its row and content hash in one pass. The hash is the
record's own :attr:`mapping.model.Record.content_hash` (see :mod:`mapping.hashing`), computed
once per record whichever of the planner or the store asks first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping

from core.entities import Entity
from mapping.hashing import Converter, converters, leaf_types
from mapping.model import META_FIELDS, MODELS, Record

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
        convs = {f: converters(fields[f].annotation) for f in content}
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

    def decode(
        self, row: Mapping[str, Any] | RowMapping, ext_ids: Mapping[str, str] | None = None
    ) -> Record:
        """The record of a row; ``ext_ids`` come from the identity map (never from the row)."""
        data = {f: row[f] for f in self.content_fields + self.extra_fields}
        data["id"] = row["id"]
        data["school_id"] = row["school_id"]
        data["modified_at"] = row["modified_at"]
        data["ext_ids"] = dict(ext_ids) if ext_ids else {}
        return self.model.model_validate(data)


CODECS: dict[Entity, Codec] = {e: Codec.for_entity(e) for e in MODELS}


def _compile_encoder(codec: Codec) -> Callable[[Record], tuple[dict[str, Any], str]]:
    """A function made for one entity: the row and the hash in one pass, no generic loops."""
    env: dict[str, Any] = {}
    lines = ["def encode(r):", "    v = r.__dict__"]
    row = ['"id": v["id"]', '"school_id": v["school_id"]']
    row += ['"modified_at": v["modified_at"]'] + [f'"{f}": v["{f}"]' for f in codec.extra_fields]
    for i, f in enumerate(codec.content_fields):
        db = codec.to_db[f]
        if db is None:
            row.append(f'"{f}": v["{f}"]')
            continue
        optional = type(None) in leaf_types(codec.model.model_fields[f].annotation)
        env[f"_db{i}"] = db
        lines.append(f'    x{i} = v["{f}"]')
        row.append(f'"{f}": {f"None if x{i} is None else " if optional else ""}_db{i}(x{i})')
    lines.append("    return {" + ", ".join(row) + "}, r.content_hash")
    exec("\n".join(lines), env)  # the source is built from field names of our own models
    fn: Callable[[Record], tuple[dict[str, Any], str]] = env["encode"]
    return fn


_ENCODERS = {e: _compile_encoder(c) for e, c in CODECS.items()}


def content_hash(record: Record) -> str:
    """The canonical content hash, computed the store's fast way."""
    return CODECS[record.entity].encode(record)[1]
