"""What the change feed reads: the committed head of the change log, and pages of its entries
rendered as events by the database.

The head is the ``change_seq`` counter as this unit of work sees it committed. Positions are
handed out under that row's lock, held until commit (:mod:`store.changelog`), so every position
up to the committed head belongs to a transaction that has ended: nothing can still appear at or
below it. A reader that reads the head *first* and then the entries up to it sees a complete
prefix of the log, whatever the isolation level (on PostgreSQL's READ COMMITTED each statement
has its own snapshot; the later one sees at least what the earlier one saw).

A page is one statement that renders each event whole with the database's own JSON functions
(``json_object`` on SQLite, ``json_build_object`` on PostgreSQL): the entry, its cursor, the
record it names (a primary-key probe) when the entry made the record's current version, and for a
delete its natural key with the lesson's class, subject and date. The database also joins the
page's events, in order, into one text (``group_concat`` over the ordered page, which SQLite
cannot flatten into the aggregate because of its LIMIT; ``string_agg … ORDER BY`` on
PostgreSQL), so a page comes back as one row — its last position, its count, its events and the
people it showed — and Python touches no event at all. That keeps a 1,000-event page cheap
enough for many consumers at once (a quarter less than 1,000 rows fetched and joined here). The
event's shape is documented by the API (``api.schemas.FeedEvent``) and tested against it.

Cursors are ``f1.`` and the position in hex: opaque to consumers by contract, cheap to make in SQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from core.entities import Entity
from store.changelog import CHANGES, last_position
from store.codec import CODECS
from store.records import table_of
from store.types import UTCDateTime

CURSOR_PREFIX = "f1."


@dataclass(frozen=True, slots=True)
class FeedScope:
    """Which entries a reader may see beyond its schools: ``None`` for all of them (a school's
    token), else one pupil's — the entities in ``shared`` wholly, those in ``own`` where their
    ``pupil_id`` is the pupil's, the pupil's own record, and lessons of ``class_id`` that are
    class-wide or of one of ``subgroups``."""

    pupil_id: str
    class_id: str | None
    subgroups: Sequence[str] = ()
    own: Sequence[str] = ()
    shared: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class FeedPage:
    """A page of events: their JSON texts (UTF-8) joined by commas, in order (the inside of a JSON
    array), and how many; the position of the last one; and the (school, entity, id) of the
    events of ``flagged`` entities that carry their record."""

    body: bytes
    count: int
    last: int | None
    shown: list[tuple[str, str, str]]

    def events(self) -> list[dict[str, Any]]:
        """The events parsed (for tests and tools; the API sends ``body`` as it is)."""
        parsed: list[dict[str, Any]] = json.loads(b"[" + self.body + b"]")
        return parsed


class FeedQueries:
    conn: Connection

    def feed_head(self) -> int:
        """The last position of the change log committed as this unit of work sees it."""
        return last_position(self.conn)

    def feed_page(
        self,
        after: int,
        upto: int,
        limit: int,
        *,
        schools: Sequence[str],
        hidden: Mapping[str, Sequence[str]] | None = None,
        scope: FeedScope | None = None,
        flagged: Sequence[str] = (),
    ) -> FeedPage:
        """Events of the entries with ``after < position <= upto`` of ``schools`` (and
        ``scope``), in order, at most ``limit``; record fields in ``hidden`` (entity → fields)
        left out; which events of the ``flagged`` entities carry their record."""
        hidden_key = tuple(sorted((e, tuple(sorted(f))) for e, f in (hidden or {}).items()))
        shape = None
        params: dict[str, Any] = {"after": after, "upto": upto, "limit": limit}
        params["schools"] = list(schools)
        if scope is not None:
            shape = (tuple(scope.own), tuple(scope.shared), scope.class_id is not None,
                     bool(scope.subgroups))  # fmt: skip
            params.update(pupil=scope.pupil_id, klass=scope.class_id, groups=list(scope.subgroups))
        key = (hidden_key, shape, tuple(sorted(flagged)))
        last, count, body, shown = _fetch(self.conn, _compiled(self.conn.dialect, *key), params)
        people = [tuple(p.split(_UNIT)) for p in shown.decode().split(_RECORD)] if shown else []
        return FeedPage(body or b"", count, last, people)  # type: ignore[arg-type]


def _fetch(
    conn: Connection, compiled: SQLCompiler, params: dict[str, Any]
) -> tuple[int | None, int, bytes | None, bytes | None]:
    """The page's one row straight from the driver's cursor, text as UTF-8 bytes: the page goes
    out as it came in, so neither SQLAlchemy's rows nor decoding and encoding again are worth
    their cost here."""
    state = compiled.construct_expanded_state(params)
    values = {
        k: state.processors[k](v) if k in state.processors else v
        for k, v in state.parameters.items()
    }
    args: Any = values if state.positiontup is None else [values[n] for n in state.positiontup]
    driver = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        previous = driver.text_factory  # type: ignore[union-attr]
        driver.text_factory = bytes  # type: ignore[union-attr]
        try:
            cursor = driver.cursor()  # type: ignore[union-attr]
            row: Any = cursor.execute(state.statement, args).fetchone()
            cursor.close()
        finally:
            driver.text_factory = previous  # type: ignore[union-attr]
        return row[0], row[1], row[2], row[3]
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(state.statement, args)
        last, count, body, shown = cursor.fetchone()
        return last, count, body and body.encode(), shown and shown.encode()


@functools.lru_cache(maxsize=64)
def _compiled(
    dialect: Dialect,
    hidden: tuple[tuple[str, tuple[str, ...]], ...],
    scope: tuple[tuple[str, ...], tuple[str, ...], bool, bool] | None,
    flagged: tuple[str, ...],
) -> SQLCompiler:
    reparse = dialect.name == "sqlite" and not _sqlite_keeps_json_subtype()
    page = _statement(dialect.name, hidden, scope, flagged, reparse).subquery("page")
    compiled = _one_row(dialect.name, page).compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    return compiled


#: what separates a shown person's (school, entity, id), and one person from the next: control
#: characters no id has
_UNIT, _RECORD = "\x1f", "\x1e"


def _one_row(dialect: str, page: Any) -> Select[Any]:
    """The page as one row: its last position, its count, its events joined by commas in order,
    and the shown people joined by :data:`_RECORD`."""
    p = page.c
    person = p.school_id.concat(_UNIT).concat(p.entity).concat(_UNIT).concat(p.record_id)
    person = case((p.shown, person), else_=None)
    if dialect == "sqlite":  # in the page's order: a LIMIT keeps the page a subquery of its own
        events: Any = func.group_concat(p.event, ",")
        people: Any = func.group_concat(person, _RECORD)
    else:
        events = func.string_agg(p.event, aggregate_order_by(literal_column("','"), p.position))
        people = func.string_agg(person, aggregate_order_by(literal(_RECORD), p.position))
    return select(func.max(p.position), func.count(), events, people)


@functools.cache
def _sqlite_keeps_json_subtype() -> bool:
    """Whether this SQLite keeps a JSON value's subtype through ``CASE`` and a scalar subquery,
    so that a record's object nests as an object in its event without being parsed again by
    ``json()`` (a quarter of a feed page's time). Asked of the library itself, once."""
    import sqlite3

    probe = "SELECT json_object('a', CASE WHEN 1 THEN (SELECT json_object('b', 1)) END)"
    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        (out,) = conn.execute(probe).fetchone()
    return bool(out == '{"a":{"b":1}}')


@functools.cache
def _statement(
    dialect: str,
    hidden: tuple[tuple[str, tuple[str, ...]], ...],
    scope: tuple[tuple[str, ...], tuple[str, ...], bool, bool] | None,
    flagged: tuple[str, ...],
    reparse: bool = False,
) -> Select[Any]:
    """The page statement for one dialect, hidden fields, scope shape and flagged entities
    (built once: it has subqueries per entity), its values bound at execution; ``reparse``: an
    SQLite that loses a JSON value's subtype, whose records' JSON is parsed again by ``json()``."""
    c = CHANGES.c
    fields = dict(hidden)
    sqlite = dialect == "sqlite"
    data = case(
        *((c.entity == e.value, _record_json(dialect, e, fields.get(e.value, ()))) for e in Entity),
        else_=None,
    )
    event = _object(
        dialect,
        ("cursor", _cursor(dialect, c.position)),
        ("school", c.school_id),
        ("entity", c.entity),
        ("id", c.record_id),
        ("op", c.op),
        ("version", c.version),
        ("at", _iso(dialect, c.at)),
        ("source", c.source),
        ("key", case((c.op == "delete", _tombstone_key(dialect)), else_=None)),
        ("data", func.json(data) if reparse else data),
    )
    shown: ColumnElement[bool] = literal_column("1 = 0")
    if flagged:
        shown = case(
            *((c.entity == name, _current(Entity(name)).exists()) for name in flagged),
            else_=False,
        )
    stmt = select(
        c.position,
        c.school_id,
        c.entity,
        c.record_id,
        shown.label("shown"),
        (event if sqlite else cast(event, Text)).label("event"),
    ).where(
        c.position > bindparam("after"),
        c.position <= bindparam("upto"),
        c.school_id.in_(bindparam("schools", expanding=True)),
    )
    if scope is not None:
        stmt = stmt.where(_visible(*scope))
    return stmt.order_by(c.position).limit(bindparam("limit"))


def _object(dialect: str, *pairs: tuple[str, Any]) -> ColumnElement[Any]:
    """A JSON object of ``(key, value)`` pairs, built by the database."""
    args: list[Any] = []
    for name, value in pairs:
        args += [literal_column(f"'{name}'"), value]  # our own field names, never input
    return func.json_object(*args) if dialect == "sqlite" else func.json_build_object(*args)


def _cursor(dialect: str, position: ColumnElement[int]) -> ColumnElement[str]:
    hexed = func.printf("%x", position) if dialect == "sqlite" else func.to_hex(position)
    return literal_column(f"'{CURSOR_PREFIX}'").concat(hexed)


def _current(entity: Entity) -> Select[Any]:
    """The row of the record an entry names, when the entry made its live current version."""
    t = table_of(entity).c
    c = CHANGES.c
    return select(literal_column("1")).where(
        t.id == c.record_id, t.version == c.version, t.deleted_at.is_(None)
    )


def _record_json(dialect: str, entity: Entity, hidden: Sequence[str]) -> Any:
    """The record an entry names, as JSON, when the entry made its current live version."""
    codec = CODECS[entity]
    t = table_of(entity).c
    c = CHANGES.c
    pairs: list[tuple[str, Any]] = [("id", t.id), ("version", t.version)]
    pairs += [
        (name, _value(dialect, t[name]))
        for name in codec.content_fields + codec.extra_fields
        if name not in hidden
    ]
    return (
        select(_object(dialect, *pairs))
        .where(t.id == c.record_id, t.version == c.version, t.deleted_at.is_(None))
        .scalar_subquery()
    )


def _tombstone_key(dialect: str) -> Any:
    """What names a deleted record without its id: the school, the natural key kept with the
    entry, and for a mark or absence its lesson's class, subgroup, subject and date; for a
    pupil, the class. Never personal data."""
    c = CHANGES.c
    lessons = table_of(Entity.LESSONS)
    lc = lessons.c
    place = _object(
        dialect,
        ("class_id", lc.class_id),
        ("subgroup_id", lc.subgroup_id),
        ("subject_id", lc.subject_id),
        ("date", lc.date),
    )
    extra: list[tuple[ColumnElement[bool], Any]] = []
    for entity in (Entity.MARKS, Entity.ATTENDANCE):
        t = table_of(entity)
        sub = select(place).select_from(t.join(lessons, lc.id == t.c.lesson_id))
        extra.append((c.entity == entity.value, sub.where(t.c.id == c.record_id).scalar_subquery()))
    pupils = table_of(Entity.PUPILS).c
    klass = select(_object(dialect, ("class_id", pupils.class_id))).where(pupils.id == c.record_id)
    extra.append((c.entity == Entity.PUPILS.value, klass.scalar_subquery()))
    enrich = case(*extra, else_=None)
    school = _object(dialect, ("school", c.school_id))
    if dialect == "sqlite":  # members joined as text: json_patch would drop null members
        text: ColumnElement[str] = func.substr(school, 1, func.length(school) - 1)
        for part in (cast(c.natural_key, Text), enrich):
            members = literal_column("','").concat(func.substr(part, 2, func.length(part) - 2))
            text = text.concat(func.coalesce(case((func.length(part) > 2, members)), ""))
        return func.json(text.concat("}"))
    empty = cast(literal_column("'{}'"), JSONB)
    return (
        cast(school, JSONB)
        .op("||")(func.coalesce(c.natural_key, empty))
        .op("||")(func.coalesce(cast(enrich, JSONB), empty))
    )


def _value(dialect: str, col: ColumnElement[Any]) -> ColumnElement[Any]:
    """A column as its JSON value: timestamps in ISO 8601 (UTC), booleans as true/false, JSON
    as JSON (what SQLite's JSON functions would not do by themselves; dates are stored there
    as YYYY-MM-DD text, and PostgreSQL renders dates, booleans and JSONB as JSON itself)."""
    kind = col.type
    if isinstance(kind, UTCDateTime | DateTime):
        return _iso(dialect, col)
    if dialect != "sqlite":
        return col
    if isinstance(kind, Boolean):
        return func.json(case((col.is_(None), None), (col == 1, "true"), else_="false"))
    if isinstance(kind, JSON):
        return func.json(col)
    return col


def _iso(dialect: str, col: ColumnElement[Any]) -> ColumnElement[Any]:
    """A UTC timestamp column as ISO 8601 text with its offset."""
    if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
        return func.replace(col, " ", "T").concat("+00:00")
    return func.to_char(
        func.timezone("UTC", col), literal_column("""'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'""")
    )


def _visible(
    own: tuple[str, ...], shared: tuple[str, ...], in_class: bool, grouped: bool
) -> ColumnElement[bool]:
    """A diary's entries (see :class:`FeedScope`), its values bound at execution."""
    c = CHANGES.c
    pupil: BindParameter[str] = bindparam("pupil")
    conds: list[ColumnElement[bool]] = [and_(c.entity == "pupils", c.record_id == pupil)]
    if shared:
        conds.append(c.entity.in_(list(shared)))
    for name in own:
        t = table_of(Entity(name)).c
        owned = exists().where(t.id == c.record_id, t.pupil_id == pupil)
        conds.append(and_(c.entity == name, owned))
    if in_class:
        t = table_of(Entity.LESSONS).c
        group: ColumnElement[bool] = t.subgroup_id.is_(None)
        if grouped:
            group = or_(group, t.subgroup_id.in_(bindparam("groups", expanding=True)))
        lesson = exists().where(t.id == c.record_id, t.class_id == bindparam("klass"), group)
        conds.append(and_(c.entity == "lessons", lesson))
    return or_(*conds)


def json_value(value: Any) -> Any:
    """A column value in JSON form (dates and times as ISO strings)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
