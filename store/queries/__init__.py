"""The read side: everything the CLI, the reports, the feed API and the console read from the
store, through one layer of typed queries with filters, paging and totals (entry points stay
thin). Nothing here writes. ``tx.queries`` gives the listings of one unit of work::

    with store.read() as tx:
        page = tx.queries.conflicts(ConflictFilter(statuses=("open",)), Paging(limit=20))
        print(len(page.items), "shown,", page.more, "more")

Every listing answers a :class:`Page`, so a reader can say «and 14,721 more». The feed API
reads the change log's committed head and entries (:mod:`.feed`), a school's records for
snapshots (:mod:`.snapshots`) and totals for monitoring (:mod:`.stats`).
"""

from __future__ import annotations

from sqlalchemy import Connection

from store.queries.console import (
    AuditFilter,
    Bucket,
    ConsoleQueries,
    OverviewFilter,
    OverviewRow,
    OverviewTotals,
    PeriodRow,
    QueueScope,
)
from store.queries.control import (
    AbsenceFact,
    ControlQueries,
    LessonFact,
    MarkChange,
    MarkFact,
    PeriodMarkFact,
)
from store.queries.feed import FeedPage, FeedQueries, FeedScope
from store.queries.jobs import JobQueries
from store.queries.journal import HistoryRow, JournalQueries, LessonKey, Roster, Span
from store.queries.operations import (
    ConflictFilter,
    Operations,
    OutboxFilter,
    QueueFilter,
    RunFilter,
)
from store.queries.paging import Page, Paging
from store.queries.reports import PendingQueries, PendingRef, ReconciliationFilter, ReportQueries
from store.queries.snapshots import SnapshotFilter, SnapshotQueries
from store.queries.stats import StatsQueries


class Queries(
    Operations,
    FeedQueries,
    SnapshotQueries,
    StatsQueries,
    JournalQueries,
    ReportQueries,
    PendingQueries,
    ControlQueries,
    JobQueries,
    ConsoleQueries,
):
    """Every read-side query over one unit of work's connection (``tx.queries``): the gateway's
    bookkeeping (:mod:`.operations`), the feed and snapshots (:mod:`.feed`, :mod:`.snapshots`),
    totals for metrics (:mod:`.stats`), the journal (:mod:`.journal`), stored reports
    (:mod:`.reports`), what the journal-control report checks (:mod:`.control`), the job
    queue (:mod:`.jobs`) and the web console's pages (:mod:`.console`)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn


__all__ = [
    "AbsenceFact",
    "AuditFilter",
    "Bucket",
    "ConflictFilter",
    "FeedPage",
    "FeedScope",
    "HistoryRow",
    "LessonFact",
    "LessonKey",
    "MarkChange",
    "MarkFact",
    "OutboxFilter",
    "OverviewFilter",
    "OverviewRow",
    "OverviewTotals",
    "Page",
    "Paging",
    "PendingRef",
    "PeriodMarkFact",
    "PeriodRow",
    "Queries",
    "QueueFilter",
    "QueueScope",
    "ReconciliationFilter",
    "Roster",
    "RunFilter",
    "SnapshotFilter",
    "Span",
]
