"""Column types shared by every table: UTC timestamps and JSON that is JSONB on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

#: JSON on SQLite, JSONB on PostgreSQL (queryable and indexable there)
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware timestamp stored in UTC; SQLite keeps no zone, so reads put UTC back."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # the text SQLAlchemy's SQLite DATETIME stores, made in C rather than by %-formatting
        def process(value: dt.datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            if value.tzinfo is not dt.UTC:
                value = value.astimezone(dt.UTC)
            return value.isoformat(" ", "microseconds")[:26]  # without "+00:00"

        return process

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - SQLite hands back datetimes via the impl
            value = dt.datetime.fromisoformat(value)
        stamp: dt.datetime = value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC)


_ESCAPE: Callable[[str], str] = json.encoder.encode_basestring_ascii


def fast_json(value: Any) -> str:
    """``json.dumps(value)``, quick for the flat ``{str: str}`` maps (ext ids, natural keys)."""
    if type(value) is dict:
        parts = []
        for k, v in value.items():
            if type(k) is not str or (type(v) is not str and v is not None):
                return json.dumps(value)
            parts.append(_ESCAPE(k) + ": " + ("null" if v is None else _ESCAPE(v)))
        return "{" + ", ".join(parts) + "}"
    return json.dumps(value)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
