"""``column IN (…values…)`` and ``NOT IN`` with the values as a single bound parameter.

A plain ``column.in_(values)`` expands into one parameter per value, and SQLAlchemy re-renders
the statement for each new count — on the sync engine's hot path (identity lookups, record
states, agreements: a thousand ids per page) that rendering costs more than the query. Here the
list travels as one value — a JSON array read with ``json_each`` on SQLite, an array ``unnest``-ed
on PostgreSQL — so the statement compiles once and is served from the cache, and the database
builds its own index of the values, so a long list costs a lookup per row, not a scan.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, Connection, Select, String, bindparam, func, select
from sqlalchemy.sql.elements import ColumnElement


def one_of(
    conn: Connection, column: ColumnElement[Any], values: Sequence[str]
) -> ColumnElement[bool]:
    """``column`` is one of ``values`` (strings)."""
    return column.in_(_listed(conn, values))


def none_of(
    conn: Connection, column: ColumnElement[Any], values: Sequence[str]
) -> ColumnElement[bool]:
    """``column`` is none of ``values`` (strings)."""
    return column.not_in(_listed(conn, values))


def _listed(conn: Connection, values: Sequence[str]) -> Select[Any] | list[str]:
    dialect = conn.dialect.name
    if dialect == "sqlite":
        param = bindparam(None, json.dumps(list(values)), type_=String)
        return select(func.json_each(param).table_valued("value").c.value)
    if dialect == "postgresql":
        return select(func.unnest(bindparam(None, list(values), type_=ARRAY(String))))
    return list(values)
