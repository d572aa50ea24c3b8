"""Content hashes of canonical records: blake2b of the sorted, compact JSON of the content fields.

:func:`compile_hasher` writes, once per model class, a function that builds that JSON text
straight from the record's values — byte for byte what ``json.dumps(record.content(),
sort_keys=True, ensure_ascii=False, separators=(",", ":"))`` gives — without a ``model_dump`` per
record: every record the sync engine reads is hashed, so this is on the hot path.
``tests/store/test_codec.py`` checks the two always agree.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import operator
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any

from pydantic import BaseModel

from mapping.values import MarkValue

Converter = Callable[[Any], Any] | None
#: a compiled content hash of one model class (any pydantic model: the canonical records)
Hasher = Callable[[Any], str]

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_ESCAPE: Callable[[str], str] = json.encoder.encode_basestring


def leaf_types(annotation: Any) -> set[Any]:
    """The plain types a field annotation admits (``Annotated`` and unions unwrapped)."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return leaf_types(args[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(leaf_types(a) for a in args))
    if origin is not None:
        return {origin}
    return {annotation}


def _iso(v: dt.date) -> str:
    return v.isoformat()


def json_value(v: Any) -> str:
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
    """Sorted, compact JSON: the text a content hash is taken over."""
    return _ENCODER.encode(dict(sorted(content.items())))


def converters(annotation: Any) -> tuple[Converter, Converter]:
    """(to a column value, to its JSON form) for a field; ``None`` means as is.

    Converters are never called with ``None`` (an absent optional value stays ``None``)."""
    leaves = leaf_types(annotation) - {type(None)}
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


def compile_hasher(model: type[BaseModel], meta_fields: Collection[str]) -> Hasher:
    """A function made for one model: its records' content hash, no generic loops."""
    fields = model.model_fields
    content = sorted(f for f in fields if f not in meta_fields)
    env: dict[str, Any] = {
        "_J": json_value, "_E": _ESCAPE, "_H": hashlib.blake2b, "_I": int.__repr__
    }  # fmt: skip
    lines = ["def content_hash(r):", "    v = r.__dict__"]
    parts: list[str] = []
    for i, f in enumerate(content):
        leaves = leaf_types(fields[f].annotation)
        optional = type(None) in leaves
        to_json = converters(fields[f].annotation)[1]
        lines.append(f'    x = v["{f}"]')
        if to_json is not None:
            env[f"_js{i}"] = to_json
            lines.append(f"    x = {'None if x is None else ' if optional else ''}_js{i}(x)")
        if leaves == {str} or (to_json is str and not optional):
            lines.append(f"    s{i} = _E(x)")  # always a str here
        elif leaves == {int}:
            lines.append(f"    s{i} = _I(x)")
        else:
            lines.append(f"    s{i} = _J(x)")
        parts.append(f"'{'{' if i == 0 else ','}\"{f}\":' + s{i}")
    payload = " + ".join(parts) + " + '}'" if parts else "'{}'"
    lines.append(f"    return _H(({payload}).encode(), digest_size=16).hexdigest()")
    exec("\n".join(lines), env)  # the source is built from field names of our own models
    fn: Hasher = env["content_hash"]
    return fn
