"""``column IN (…values…)`` and ``NOT IN`` with the values as a single bound parameter; ids in
byte order (:func:`byte_order`).

A plain ``column.in_(values)`` expands into one parameter per value, and SQLAlchemy re-renders
the statement for each new count — on the sync engine's hot path (identity lookups, record
states, agreements: a thousand ids per page) that rendering costs more than the query. Here the
list travels as one value, so the statement compiles once and is served from the cache:

- on SQLite, a JSON array read with ``json_each`` (``column IN (SELECT value FROM json_each(?))``);
  SQLite builds a transient index of the values and probes the column's index with each;
- on PostgreSQL, one array parameter compared with ``= ANY(:array)``. That is an index condition
  by itself (one probe of the column's index per value) whatever the planner believes about the
  table's size — unlike ``IN (SELECT unnest(:array))``, a join whose plan follows the statistics:
  on a table that filled during one long load and was never analysed, the planner believed it
  held one row and compared every row with every value (issue 11).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, Connection, Select, String, all_, any_, bindparam, func, select
from sqlalchemy.sql.elements import BindParameter, ColumnElement


def one_of(
    conn: Connection, column: ColumnElement[Any], values: Sequence[str]
) -> ColumnElement[bool]:
    """``column`` is one of ``values`` (strings)."""
    if conn.dialect.name == "postgresql":
        return column == any_(_array(values))
    return column.in_(_listed(conn, values))


def none_of(
    conn: Connection, column: ColumnElement[Any], values: Sequence[str]
) -> ColumnElement[bool]:
    """``column`` is none of ``values`` (strings)."""
    if conn.dialect.name == "postgresql":
        return column != all_(_array(values))
    return column.not_in(_listed(conn, values))


def byte_order(conn: Connection, column: ColumnElement[str]) -> ColumnElement[str]:
    """``column`` as an ORDER BY key in byte order — the order of Python's ``str`` comparison —
    on every engine: PostgreSQL sorts by the database's collation (a Russian or English one
    folds case and skips punctuation) unless told ``COLLATE "C"``; SQLite compares bytes."""
    if conn.dialect.name == "postgresql":
        return column.collate("C")
    return column


def _array(values: Sequence[str]) -> BindParameter[Any]:
    array: Any = ARRAY(String)
    return bindparam(None, list(values), type_=array)


def _listed(conn: Connection, values: Sequence[str]) -> Select[Any] | list[str]:
    dialect = conn.dialect.name
    if dialect == "sqlite":
        param = bindparam(None, json.dumps(list(values)), type_=String)
        return select(func.json_each(param).table_valued("value").c.value)
    return list(values)
