"""``column IN (…values…)`` (and ``NOT IN``) as a single bound parameter.

A plain ``column.in_(values)`` expands into one parameter per value, and SQLAlchemy re-renders
the statement for each new count — on the sync engine's hot path (identity lookups, record
states, agreements: a thousand ids per page) that rendering costs more than the query. Here the
list travels as one value — a JSON array read with ``json_each`` on SQLite, an array compared
with ``= ANY`` on PostgreSQL — so the statement compiles once and is served from the cache.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, Connection, String, any_, bindparam, func, select
from sqlalchemy.sql.elements import ColumnElement


def one_of(
    conn: Connection, column: ColumnElement[Any], values: Sequence[str]
) -> ColumnElement[bool]:
    """``column`` is one of ``values`` (strings), in one bound parameter."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        each = func.json_each(bindparam(None, json.dumps(list(values)), type_=String)).table_valued(
            "value"
        )
        return column.in_(select(each.c.value))
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    return column.in_(list(values))


def none_of(
    conn: Connection, column: ColumnElement[Any], values: Sequence[str]
) -> ColumnElement[bool]:
    """``column`` is none of ``values`` (strings), in one bound parameter; the database builds
    its own index of the values, so a long list costs a lookup per row, not a scan."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        each = func.json_each(bindparam(None, json.dumps(list(values)), type_=String)).table_valued(
            "value"
        )
        return column.not_in(select(each.c.value))
    if dialect == "postgresql":
        return column.not_in(
            select(func.unnest(bindparam(None, list(values), type_=ARRAY(String))))
        )
    return column.not_in(list(values))
