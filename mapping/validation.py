"""Build canonical records from mapped fields, turning pydantic errors into :class:`RecordError`.

Pydantic's own messages echo the input value; for people that would be personal data. This
builder keeps only the field path and the reason, and names the record by id.

A bad *optional* field never costs the record: it is stored empty and the record carries a
:class:`~mapping.notes.FieldNote` (the field, the reason, the value received unless it is personal
data), which the sync engine turns into a finding for the person who corrects it at the source.
Only a record that cannot be identified or placed — a required field missing or invalid — is
refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import ValidationError

from core.errors import RecordError
from core.names import fix_lookalikes
from mapping.model import PERSONAL_FIELDS
from mapping.notes import FieldNote

R = TypeVar("R")


def build(
    model: type[R],
    fields: dict[str, Any],
    *,
    system: str | None,
    record_id: object,
    notes: Sequence[FieldNote] = (),
) -> R:
    """``model(**fields)``; an invalid optional field is dropped with a note; otherwise a
    :class:`RecordError` naming the record and the first bad required field. ``notes``: fields
    the mapping already dropped while reading the wire (see :func:`optional`)."""
    if _has_names(model):
        notes = [*notes, *_fix_names(fields)]
    try:
        record = _validator(model)(fields)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
    else:
        if notes:
            record.__dict__["_field_notes"] = tuple(notes)
        return record
    entity = str(getattr(model, "entity", model.__name__))
    droppable = _optional_fields(model)
    dropped_now: list[FieldNote] = []
    for err in errors:
        top = err["loc"][0] if err["loc"] else None
        if top not in droppable or fields.get(str(top)) is None:
            raise _refusal(err, entity, record_id, system, fields.get(str(top)))
        if all(n.field != top for n in dropped_now):
            dropped_now.append(_note(str(top), err, fields[str(top)]))
    notes = [*notes, *dropped_now]
    kept = {**fields, **{n.field: None for n in dropped_now}}
    try:
        record = model(**kept)
    except ValidationError as again:
        first = again.errors(include_url=False, include_input=False)[0]
        raise _refusal(first, entity, record_id, system) from None
    record.__dict__["_field_notes"] = tuple(notes)
    return record


NAME_FIELDS = ("last_name", "first_name", "middle_name")
_VALIDATORS: dict[type[Any], Callable[[dict[str, Any]], Any]] = {}


def _validator(model: type[R]) -> Callable[[dict[str, Any]], R]:
    """``model(**fields)`` without its keyword packing: a pydantic model's compiled validator
    called on the dict itself (what its ``__init__`` does), found once per model."""
    found = _VALIDATORS.get(model)
    if found is None:
        core = getattr(model, "__pydantic_validator__", None)
        found = _VALIDATORS[model] = (
            core.validate_python if core is not None else lambda fields: model(**fields)
        )
    return found


def _has_names(model: type[Any]) -> bool:
    found = _NAMED.get(model)
    if found is None:
        found = _NAMED[model] = any(n in getattr(model, "model_fields", {}) for n in NAME_FIELDS)
    return found


_NAMED: dict[type[Any], bool] = {}


def _fix_names(fields: dict[str, Any]) -> list[FieldNote]:
    """Russian names with Latin look-alike letters are stored with Cyrillic ones (so that every
    system's spelling agrees) and noted, for the source to correct; the name is not repeated."""
    notes = []
    for name in NAME_FIELDS:
        value = fields.get(name)
        if isinstance(value, str) and (fixed := fix_lookalikes(value)) != value:
            fields[name] = fixed
            notes.append(
                FieldNote(
                    name,
                    "Latin letters that look Cyrillic (o/о, a/а, e/е, c/с, p/р, x/х …) corrected",
                    None,
                    corrected=True,
                )
            )
    return notes


def optional(model: type[Any], field: str) -> bool:
    """Whether ``field`` of ``model`` may be empty: a mapping that cannot read its wire value
    drops it with a note (:func:`dropped`) instead of refusing the record."""
    return field in _optional_fields(model)


def dropped(field: str, reason: str, received: object) -> FieldNote:
    """The note for an optional field the mapping could not read."""
    return FieldNote(field, reason, None if field in PERSONAL_FIELDS else _shown(received))


def _refusal(
    err: Any, entity: str, record_id: object, system: str | None, value: object = None
) -> RecordError:
    loc = ".".join(str(p) for p in err["loc"]) or None
    reason = str(err["msg"]).removeprefix("Value error, ")
    if loc in PERSONAL_FIELDS:
        value = None  # never kept, even for the person who corrects it
    return RecordError(
        reason, entity=entity, record_id=str(record_id), field=loc, system=system, value=value
    )


def _note(field: str, err: Any, received: object) -> FieldNote:
    return dropped(field, str(err["msg"]).removeprefix("Value error, "), received)


def _shown(value: object, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _optional_fields(model: type[Any]) -> frozenset[str]:
    """Fields that may be empty (default ``None``): a bad value there is dropped, not fatal."""
    found = _OPTIONAL.get(model)
    if found is None:
        infos = getattr(model, "model_fields", {})
        found = _OPTIONAL[model] = frozenset(
            name for name, info in infos.items() if not info.is_required() and info.default is None
        )
    return found


_OPTIONAL: dict[type[Any], frozenset[str]] = {}
