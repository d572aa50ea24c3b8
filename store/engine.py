"""The store: an engine on SQLite (WAL) or PostgreSQL, migrations, and units of work."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, IntegrityError
from sqlalchemy.pool import ConnectionPoolEntry

from core.errors import DataRejected, StoreError
from store import migrate
from store.access_log import AccessLogRepo
from store.changelog import ChangesRepo, PendingChanges
from store.checkpointer import Checkpointer
from store.checkpoints import CheckpointsRepo
from store.conflicts import ConflictsRepo
from store.console import ConsoleRepo
from store.history import HistoryRepo
from store.holds import HoldsRepo
from store.idempotency import IdempotencyRepo
from store.identity import IdentityRepo
from store.jobs import JobsRepo
from store.matching import MatchingRepo
from store.outbox import OutboxRepo
from store.queries import Queries
from store.reconciliations import ReconciliationsRepo
from store.records import RecordsRepo
from store.reviews import ReviewsRepo
from store.runs import RunsRepo
from store.statistics import Statistics
from store.tokens import TokensRepo

BUSY_TIMEOUT_MS = 30_000
#: every SQLite connection: WAL, commits without fsync (WAL keeps them atomic), a 16 MB page cache
SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    f"busy_timeout={BUSY_TIMEOUT_MS}",
    "foreign_keys=OFF",
    "cache_size=-8192",  # 8 MB: a pull holds little but its unit; see docs/performance.md
    "temp_store=MEMORY",
    "wal_autocheckpoint=0",  # checkpoints run on a thread of their own (store.checkpointer)
)


class Tx:
    """One unit of work: every repository writes in the same transaction, committed together.

    ``records`` (canonical records), ``history`` (audit, earlier versions), ``identity`` (links
    and agreements), ``matching`` (natural keys), ``reviews``, ``changes`` (the change log),
    ``runs``, ``checkpoints``, ``outbox``, ``conflicts``, ``holds``, ``reconciliations`` (stored
    reports), ``jobs`` (the job queue's locks and jobs); the feed API's ``tokens``,
    ``idempotency`` keys and ``access_log``; the web console's users, sessions and audit
    (``console``); and ``queries``, the read side's listings.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        #: the change-log entries of this unit, written as it commits (see store.changelog)
        self.pending_changes = PendingChanges(conn if conn.dialect.name == "sqlite" else None)
        self.records = RecordsRepo(conn, self.pending_changes)
        self.history = HistoryRepo(conn)
        self.identity = IdentityRepo(conn)
        self.matching = MatchingRepo(conn)
        self.reviews = ReviewsRepo(conn)
        self.changes = ChangesRepo(conn)
        self.runs = RunsRepo(conn)
        self.checkpoints = CheckpointsRepo(conn)
        self.outbox = OutboxRepo(conn)
        self.conflicts = ConflictsRepo(conn)
        self.holds = HoldsRepo(conn)
        self.tokens = TokensRepo(conn)
        self.idempotency = IdempotencyRepo(conn)
        self.access_log = AccessLogRepo(conn)
        self.reconciliations = ReconciliationsRepo(conn)
        self.jobs = JobsRepo(conn)
        self.console = ConsoleRepo(conn)
        self.queries = Queries(conn)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the unit of work that rolls back alone: an exception inside undoes only
        what it wrote. The database refusing the data (a constraint, a value too long) becomes
        :class:`DataRejected`; losing the database stays a :class:`StoreError`."""
        mark = self.pending_changes.mark()
        try:
            try:
                with self.conn.begin_nested():
                    yield
            except BaseException:
                self.pending_changes.drop_after(mark)  # its change-log entries go with it
                raise
        except (IntegrityError, DataError) as exc:
            raise DataRejected(f"the store refused the data: {_describe(exc)}") from exc
        except DBAPIError as exc:
            raise StoreError(f"store operation failed: {_describe(exc)}") from exc


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cur.execute(f"PRAGMA {pragma}")
        cur.close()
        # SQLite's lower() folds ASCII only: searches in Russian use this one
        dbapi_conn.create_function("unicode_lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # a writer takes the lock up front, so two writers never deadlock upgrading a read lock
        readonly = conn.get_execution_options().get("schoolgate_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


#: every PostgreSQL connection: an index probe costs little more than a page read in order — the
#: store's working set lives in memory or on SSD (the server's default, 4, models a spinning disk
#: and has the planner read a 30,000-link identity map whole for every page of a thousand ids)
POSTGRES_SETTINGS = ("random_page_cost = 1.1",)


def _postgres_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        with dbapi_conn.cursor() as cur:
            for setting in POSTGRES_SETTINGS:
                cur.execute(f"SET {setting}")
        dbapi_conn.commit()


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _describe(exc: DBAPIError) -> str:
    """The driver's message without SQL or parameters (which may hold personal data)."""
    orig = exc.orig
    first = str(orig).strip().splitlines()[0] if orig is not None and str(orig).strip() else ""
    return f"{type(orig).__name__}: {first}" if orig is not None else type(exc).__name__


def missing_database(url: str) -> str | None:
    """The path of the SQLite file ``url`` names when that file does not exist (opening the
    store would create it: a command that only reads must not); ``None`` otherwise."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return None
    if path.startswith("file:") or os.path.exists(path):
        return None
    return path


class Store:
    """The journal store. ``Store.open(url)``, then ``with store.begin() as tx: ...``."""

    def __init__(self, engine: Engine, checkpointer: Checkpointer | None = None) -> None:
        self.engine = engine
        self._checkpointer = checkpointer
        #: PostgreSQL: tables filling during a load analysed as they grow (see store.statistics)
        self.statistics = Statistics(engine) if engine.dialect.name == "postgresql" else None
        if checkpointer is not None:
            event.listen(engine, "commit", lambda conn: checkpointer.notify())

    @classmethod
    def open(cls, url: str, *, password: str | None = None, echo: bool = False) -> Store:
        """The store at ``url``; ``password`` is kept out of the URL so that no message, log
        line or repr can show it."""
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StoreError("the store URL is not a database URL") from None
        if password is not None:
            parsed = parsed.set(password=password)
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            path = parsed.database or ""
            in_memory = path in ("", ":memory:") or "mode=memory" in str(parsed)
            # a file's pool hands out the connection returned last: a pull's units keep one page
            # cache warm, and the one its reads use while a unit is open stays small (a FIFO pool
            # had the units take turns, filling both caches: 16 MB more per process). A database
            # in memory has one connection per thread: nothing to choose from
            pool: dict[str, Any] = {} if in_memory else {"pool_use_lifo": True}
            engine = create_engine(parsed, echo=echo, **pool)
            _sqlite_setup(engine)
            if not in_memory and not path.startswith("file:"):
                return cls(engine, Checkpointer(path))
        elif backend == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            engine = create_engine(parsed, echo=echo, pool_pre_ping=True)
            _postgres_setup(engine)
        else:
            raise StoreError(f"unsupported store backend {backend!r}: use sqlite or postgresql")
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL with any password masked."""
        return self.engine.url.render_as_string(hide_password=True)

    def upgrade(self) -> tuple[str | None, str | None]:
        """Create or upgrade the schema to the newest revision: ``(before, after)``."""
        try:
            before = migrate.current_revision(self.engine)
            migrate.upgrade(self.engine)
            return before, migrate.current_revision(self.engine)
        except DBAPIError as exc:
            raise StoreError(f"cannot upgrade the store: {_describe(exc)}") from exc

    def revision(self) -> str | None:
        """The schema revision of the database (``None`` when not initialised)."""
        try:
            return migrate.current_revision(self.engine)
        except DBAPIError as exc:
            raise StoreError(f"cannot reach the store: {_describe(exc)}") from exc

    def head(self) -> str | None:
        return migrate.head_revision()

    @contextmanager
    def begin(self) -> Iterator[Tx]:
        """A unit of work that commits on success and rolls back on an exception."""
        with self._conn(readonly=False) as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only unit of work (on SQLite it does not take the write lock)."""
        with self._conn(readonly=True) as tx:
            yield tx

    @contextmanager
    def _conn(self, *, readonly: bool) -> Iterator[Tx]:
        try:
            with self.engine.connect() as raw:
                if self.statistics is not None and self.statistics.due_committed:
                    with raw.begin():
                        self.statistics.refresh(raw)
                conn = raw.execution_options(schoolgate_readonly=True) if readonly else raw
                with conn.begin():
                    tx = Tx(conn)
                    yield tx
                    tx.pending_changes.flush(conn)
        except DBAPIError as exc:
            raise StoreError(f"store operation failed: {_describe(exc)}") from exc

    def close(self) -> None:
        self.engine.dispose()
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
