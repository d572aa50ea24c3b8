"""The store's tables: the canonical records (:mod:`.records`, one table per entity) and the
gateway's own bookkeeping (:mod:`.gateway`: identity map, change log, audit, runs, checkpoints,
outbox, conflict queue, holds, review queue)."""

from store.tables import gateway
from store.tables.base import ID, NAME, Base, BigId, table
from store.tables.records import ROWS, RecordRow

__all__ = ["ID", "NAME", "ROWS", "Base", "BigId", "RecordRow", "gateway", "table"]
