"""The declarative base every table of the store shares: naming convention, column types."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Date, Integer, MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase

from store.types import Json, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(64)
NAME = String(200)

#: BIGINT that is an INTEGER (rowid alias) on SQLite, so autoincrement keys are cheap there
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        str: String(200),
        dt.date: Date(),
        dt.datetime: UTCDateTime(),
        dict[str, Any]: Json,
        dict[str, str]: Json,
        list[Any]: Json,
    }


def table(cls: type[Base]) -> Table:
    """The Core table of a mapped class (typed, for statements on the hot path)."""
    found = cls.__table__
    assert isinstance(found, Table)
    return found
