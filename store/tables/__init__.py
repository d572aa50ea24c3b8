"""The store's tables: the canonical records (:mod:`.records`, one table per entity) and the
gateway's own bookkeeping (:mod:`.gateway`: identity map, change log, audit, runs, checkpoints,
outbox, conflict queue, holds, review queue), the feed API's (:mod:`.api`: tokens,
idempotency keys, access log), the stored reports (:mod:`.reports`), the job queue's locks
and waiting jobs (:mod:`.jobs`) and the web console's (:mod:`.console`: users, sessions, audit)."""

from store.tables import api, console, gateway, jobs, reports
from store.tables.base import ID, NAME, Base, BigId, table
from store.tables.records import ROWS, RecordRow

__all__ = [
    "ID",
    "NAME",
    "ROWS",
    "Base",
    "BigId",
    "RecordRow",
    "api",
    "console",
    "gateway",
    "jobs",
    "reports",
    "table",
]  # fmt: skip
