"""What a backup needs from the database itself, kept here because only the store knows it:
the tables and their row counts, whether a store is empty, SQLite's online backup API, and a
PostgreSQL snapshot that ``pg_dump`` can share (``ops.backup`` runs the files and processes).

* **SQLite**: :func:`copy_sqlite` copies the live store with ``sqlite3.Connection.backup`` in one
  step — a read transaction in WAL mode, so writers go on and the copy is the database as of one
  commit. The copy is switched to ``journal_mode=DELETE`` so it is one self-contained file.
* **PostgreSQL**: :func:`pg_snapshot` opens a ``REPEATABLE READ`` transaction and exports its
  snapshot; row counts and the schema revision are read in it, and ``pg_dump --snapshot`` dumps
  the very same state while syncs go on.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError

from core.errors import StoreError
from store.engine import Store, _describe

#: the table Alembic keeps the schema revision in
REVISION_TABLE = "alembic_version"


@contextmanager
def _db_errors(what: str) -> Iterator[None]:
    """A database error as a :class:`StoreError` naming what was being done (no SQL, no data)."""
    try:
        yield
    except DBAPIError as exc:
        raise StoreError(f"{what}: {_describe(exc)}") from exc


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_names(store: Store) -> list[str]:
    """Every table of the store (Alembic's included), sorted."""
    with _db_errors("cannot list the store's tables"), store.engine.connect() as conn:
        return _tables(conn)


def _tables(conn: Connection) -> list[str]:
    return sorted(inspect(conn).get_table_names())


def _counts(conn: Connection, tables: list[str]) -> dict[str, int]:
    return {
        t: int(conn.execute(text(f"SELECT count(*) FROM {_quoted(t)}")).scalar_one())
        for t in tables
    }


def _revision(conn: Connection, tables: list[str]) -> str | None:
    if REVISION_TABLE not in tables:
        return None
    value = conn.execute(text(f"SELECT version_num FROM {REVISION_TABLE}")).scalar()
    return None if value is None else str(value)


def row_counts(store: Store) -> dict[str, int]:
    """Rows per table, every table of the store, in one read transaction."""
    with store.read() as tx:
        return _counts(tx.conn, _tables(tx.conn))


def sqlite_path(store: Store) -> Path | None:
    """The file of a SQLite store (``None`` for PostgreSQL or an in-memory database)."""
    if store.dialect != "sqlite":
        return None
    database = store.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def copy_sqlite(store: Store, dest: Path) -> None:
    """A consistent copy of a live SQLite store in ``dest`` (which must not exist), made by the
    online backup API while other connections go on writing."""
    if store.dialect != "sqlite":
        raise StoreError("copy_sqlite needs a SQLite store")
    raw = store.engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        with closing(sqlite3.connect(dest, isolation_level=None)) as target:
            source.backup(target)  # every page in one step: one read transaction
            target.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise StoreError(f"the SQLite backup failed: {exc}") from exc
    finally:
        raw.close()


def sqlite_file_summary(path: Path) -> tuple[str | None, dict[str, int]]:
    """``(schema revision, rows per table)`` of a SQLite file, read without changing a byte of it
    (read-only, immutable: a checksum taken before still holds)."""
    uri = f"file:{path.resolve()}?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            names = sorted(
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                )
            )
            counts = {
                n: int(conn.execute(f"SELECT count(*) FROM {_quoted(n)}").fetchone()[0])
                for n in names
            }
            revision = None
            if REVISION_TABLE in names:
                row = conn.execute(f"SELECT version_num FROM {REVISION_TABLE}").fetchone()
                revision = None if row is None else str(row[0])
            return revision, counts
    except sqlite3.Error as exc:
        raise StoreError(f"{path.name} is not a readable SQLite database: {exc}") from exc


def restore_sqlite(source: Path, store: Store) -> None:
    """Copy the SQLite file ``source`` into the (empty) SQLite store with the backup API."""
    if store.dialect != "sqlite":
        raise StoreError("restore_sqlite needs a SQLite store")
    uri = f"file:{source.resolve()}?mode=ro&immutable=1"
    raw = store.engine.raw_connection()
    try:
        target = raw.driver_connection
        assert isinstance(target, sqlite3.Connection)
        with closing(sqlite3.connect(uri, uri=True)) as src:
            src.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise StoreError(f"the SQLite restore failed: {exc}") from exc
    finally:
        raw.close()
    store.engine.dispose()  # connections opened before the copy must not serve stale pages


@dataclass(frozen=True, slots=True)
class PgSnapshot:
    """A PostgreSQL snapshot held open: its id for ``pg_dump --snapshot``, the store's schema,
    and what the snapshot holds (schema revision, rows per table)."""

    snapshot: str
    schema: str
    revision: str | None
    counts: dict[str, int]


@contextmanager
def pg_snapshot(store: Store) -> Iterator[PgSnapshot]:
    """An exported ``REPEATABLE READ`` snapshot of a PostgreSQL store, open for the block."""
    if store.dialect != "postgresql":
        raise StoreError("pg_snapshot needs a PostgreSQL store")
    with _db_errors("cannot take a snapshot of the store"):
        raw = store.engine.connect()
    try:
        with _db_errors("cannot take a snapshot of the store"):
            conn = raw.execution_options(isolation_level="REPEATABLE READ")
            conn.begin()
            snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
            tables = _tables(conn)
            held = PgSnapshot(snapshot, schema, _revision(conn, tables), _counts(conn, tables))
        yield held
    finally:
        raw.close()  # it only read: closing rolls the transaction back


def current_schema(store: Store) -> str | None:
    """The schema a PostgreSQL store's tables live in (``None``: its search path names no
    schema that exists)."""
    with _db_errors("cannot reach the store"), store.engine.connect() as conn:
        value = conn.execute(text("SELECT current_schema()")).scalar()
        return None if value is None else str(value)


def libpq_env(store: Store) -> dict[str, str]:
    """The ``PG*`` environment that points ``pg_dump``, ``pg_restore`` and ``psql`` at a
    PostgreSQL store (the password travels in the environment, never on a command line)."""
    url = store.engine.url
    if store.dialect != "postgresql":
        raise StoreError("libpq_env needs a PostgreSQL store")
    env: dict[str, str] = {}
    if url.host:
        env["PGHOST"] = url.host
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    if url.database:
        env["PGDATABASE"] = url.database
    options = url.query.get("options")
    if options:
        env["PGOPTIONS"] = options if isinstance(options, str) else " ".join(options)
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        value = url.query.get(key)
        if isinstance(value, str):
            env["PG" + key.upper()] = value
    return env


def subprocess_env(store: Store) -> dict[str, str]:
    """This process's environment with the store's ``PG*`` settings over it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return {**base, **libpq_env(store)}
