"""The journal store (SQLAlchemy; SQLite in WAL mode by default, PostgreSQL in production).

Canonical tables, the identity map, an append-only change log, audit history, sync runs,
checkpoints, an outbox, conflicts, holds and a review queue; Alembic migrations shipped in the
package. SQLAlchemy stays inside this package: callers use :class:`Store` and its units of work,
whose repositories hang off the transaction (``tx.records``, ``tx.identity``, ``tx.outbox``,
``tx.conflicts``, ``tx.runs``, …) and whose read side is ``tx.queries``::

    store = Store.open("sqlite:///schoolgate.db")
    store.upgrade()
    with store.begin() as tx:
        counts = tx.records.upsert(Entity.MARKS, marks, source="es2", run_id=run_id)
        tx.checkpoints.save(school_id, "es2", Entity.MARKS, {"revision": 42})

Choices worth knowing (details in the modules):

- Records are soft-deleted (``deleted_at``) and carry ``version`` (+1 per change) and the
  canonical ``content_hash``; an unchanged record writes nothing (:mod:`store.records`).
- Every applied change gets one ``change_log`` row; a delete (feed tombstone) carries the natural
  key (:data:`NATURAL_KEYS`). Positions are handed out under a one-row counter lock held to
  commit, so a reader following ``position > cursor`` never misses a change (:mod:`store.changelog`).
- The feed API's tables: access tokens kept as hashes of their secrets (``tx.tokens``), journal
  write idempotency keys (``tx.idempotency``), personal-data reads by token and record id
  (``tx.access_log``).
- History: updates and deletes have an ``audit`` row with old → new; a creation is recorded by its
  change-log row (source, actor, run, time) and its content lives in the record row until the next
  change, whose audit row keeps it as ``old``.
"""

from store.access_log import Access
from store.changelog import Change
from store.codec import NATURAL_KEYS, content_hash
from store.conflicts import Conflict, NewFinding
from store.engine import Store, Tx, missing_database
from store.holds import Hold
from store.idempotency import Claim
from store.jobs import JobKey, JobLock, QueuedJob
from store.outbox import NewPush, OutboxItem, OutboxResult
from store.queries import (
    ConflictFilter,
    FeedPage,
    FeedScope,
    OutboxFilter,
    Page,
    Paging,
    QueueFilter,
    ReconciliationFilter,
    RunFilter,
    SnapshotFilter,
    Span,
)
from store.reconciliations import NewDifference, Reconciliation, ReconciliationItem
from store.records import UpsertCounts
from store.reviews import ReviewItem
from store.runs import Run
from store.tokens import Token

__all__ = [
    "NATURAL_KEYS",
    "Access",
    "Change",
    "Claim",
    "Conflict",
    "ConflictFilter",
    "FeedPage",
    "FeedScope",
    "Hold",
    "JobKey",
    "JobLock",
    "NewDifference",
    "NewFinding",
    "NewPush",
    "OutboxFilter",
    "OutboxItem",
    "OutboxResult",
    "Page",
    "Paging",
    "QueueFilter",
    "QueuedJob",
    "Reconciliation",
    "ReconciliationFilter",
    "ReconciliationItem",
    "ReviewItem",
    "Run",
    "RunFilter",
    "SnapshotFilter",
    "Span",
    "Store",
    "Token",
    "Tx",
    "UpsertCounts",
    "content_hash",
    "missing_database",
]
