"""Build canonical records from mapped fields, turning pydantic errors into :class:`RecordError`.

Pydantic's own messages echo the input value; for people that would be personal data. This
builder keeps only the field path and the reason, and names the record by id.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import ValidationError

from core.errors import RecordError

R = TypeVar("R")


def build(model: type[R], fields: dict[str, Any], *, system: str | None, record_id: object) -> R:
    """``model(**fields)``, or a :class:`RecordError` naming the record and the first bad field."""
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        loc = ".".join(str(p) for p in first["loc"]) or None
        reason = str(first["msg"]).removeprefix("Value error, ")
        entity = str(getattr(model, "entity", model.__name__))
        raise RecordError(
            reason, entity=entity, record_id=str(record_id), field=loc, system=system
        ) from None
