"""Reading one page of the change feed for a reader's view: the committed head first, then the
entries up to it (see :mod:`store.queries.feed` for why nothing is skipped)."""

from __future__ import annotations

from dataclasses import dataclass

from api.visibility import DIARY_OWN, DIARY_SHARED, PEOPLE, hidden_fields
from store import FeedScope, Store


@dataclass(frozen=True, slots=True)
class View:
    """What the reader may see: its schools, personal fields or not, one pupil or all."""

    schools: tuple[str, ...]
    personal: bool
    pupil_id: str | None = None


@dataclass(frozen=True, slots=True)
class FeedRead:
    #: the events as JSON texts (UTF-8) joined by commas, and how many
    body: bytes
    count: int
    #: where the next read continues
    position: int
    more: bool
    head: int
    #: (school, entity, id) of people whose records this page showed
    people: list[tuple[str, str, str]]


def read_page(store: Store, view: View, *, after: int, limit: int, scan: int) -> FeedRead:
    """One page of the feed after position ``after``. A diary (one pupil's) reads at most
    ``scan`` positions of the log per page to find its pupil's entries."""
    with store.read() as tx:
        q = tx.queries
        head = q.feed_head()  # first: every position up to it is final
        if head <= after:
            return FeedRead(b"", 0, after, False, head, [])
        scope: FeedScope | None = None
        upto = head
        if view.pupil_id is not None:
            place = q.pupil_place(view.schools[0], view.pupil_id)
            class_id, groups = place if place is not None else (None, [])
            scope = FeedScope(view.pupil_id, class_id, groups, DIARY_OWN, DIARY_SHARED)
            upto = min(head, after + scan)
        page = q.feed_page(
            after,
            upto,
            limit,
            schools=view.schools,
            hidden=hidden_fields(personal=view.personal),
            scope=scope,
            flagged=sorted(PEOPLE),
        )
    if page.count == limit and page.last is not None:
        position, more = page.last, True
    else:
        position, more = upto, upto < head
    return FeedRead(page.body, page.count, position, more, head, page.shown)
