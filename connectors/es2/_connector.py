"""The ES2 connector: pulls wire records page by page and pushes batches.

Entities and how they are read:

* ``pupils``, ``marks``, ``attendance``, ``final_marks`` (``/controlmarks``): INCREMENTAL with
  ``changed_since``; state ``{"changed_since": ISO|None, "revision": int}`` plus ``cursor`` and
  ``watermark`` on the pages inside a read, so a read can resume mid-way. A read without
  ``changed_since`` is a full snapshot. The next ``changed_since`` is the newest ``updated_at``
  seen minus ``changed_since_overlap_s``: re-reading a few records is harmless (applying is
  idempotent), missing one is not.
* ``classes`` (``/groups``), ``subgroups``, ``subjects``, ``teachers``, ``periods``: FULL
  snapshots; the last page has ``complete=True``.
* ``lessons``: WINDOWED over the academic year, windows of ≤ 92 days, each window a snapshot of
  its scope ``{"date_from", "date_to"}``. A first read (state ``None``) covers the whole year; a
  later one re-reads ``[today - lesson_recent_days, today + lesson_ahead_days]``.

When the revision changes between pages the read restarts from its beginning (≤ 3 times): the
consumer sees those records again, which is harmless because applying is idempotent; ``attempt``
in the page state counts restarts. HTTP 410 / ``cursor_expired`` raises :class:`CursorExpired`:
the sync engine then runs a full pull (state ``None``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from connectors.base import (
    Capabilities,
    ConnectorSettings,
    Page,
    PushItem,
    PushResult,
    ReadMode,
    Scope,
    State,
)
from connectors.es2._client import ES2Client
from connectors.es2._options import ES2Options, windows
from connectors.es2._paginator import RawPage, read_pages
from connectors.es2._push import PUSH_PATHS, batches, idempotency_key, results_for, wire_item
from connectors.transport import Limits, RetryPolicy
from core.entities import Entity
from core.errors import ConfigError

SYSTEM = "es2"
#: a page of ≤ 1000 items is well under a megabyte; an answer over this is refused
MAX_BODY_MB = 32.0
#: seconds one request may wait on the server, its whole answer included
DEADLINE = 120.0

#: entity → ES2 path under /schools/{id}/
PATHS: dict[Entity, str] = {
    Entity.PERIODS: "periods",
    Entity.SUBJECTS: "subjects",
    Entity.TEACHERS: "teachers",
    Entity.CLASSES: "groups",
    Entity.PUPILS: "pupils",
    Entity.SUBGROUPS: "subgroups",
    Entity.LESSONS: "lessons",
    Entity.MARKS: "marks",
    Entity.FINAL_MARKS: "controlmarks",
    Entity.ATTENDANCE: "attendance",
}
READ_MODES: dict[Entity, ReadMode] = {
    Entity.PERIODS: ReadMode.FULL,
    Entity.SUBJECTS: ReadMode.FULL,
    Entity.TEACHERS: ReadMode.FULL,
    Entity.CLASSES: ReadMode.FULL,
    Entity.PUPILS: ReadMode.INCREMENTAL,
    Entity.SUBGROUPS: ReadMode.FULL,
    Entity.LESSONS: ReadMode.WINDOWED,
    Entity.MARKS: ReadMode.INCREMENTAL,
    Entity.FINAL_MARKS: ReadMode.INCREMENTAL,
    Entity.ATTENDANCE: ReadMode.INCREMENTAL,
}


class ES2Connector:
    system = SYSTEM

    def __init__(
        self,
        client: httpx.Client,
        *,
        school: str,
        credentials: Mapping[str, str],
        options: ES2Options | None = None,
        attempts: int = 6,
        retry_budget: float = 300.0,
        limits: Limits | None = None,
        sleep: Callable[[float], None] = time.sleep,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.options = options or ES2Options()
        policy = RetryPolicy(
            attempts=attempts,
            budget=retry_budget,
            backoff_initial=self.options.backoff_initial,
            backoff_max=self.options.backoff_max,
            max_retry_after=self.options.max_retry_after,
            sleep=sleep,
        )
        self.api = ES2Client(
            client,
            credentials=credentials,
            school=school,
            policy=policy,
            limits=limits or Limits(DEADLINE, int(MAX_BODY_MB * 1024 * 1024)),
        )
        fixed = self.options.today
        self._today: Callable[[], dt.date] = (lambda: fixed) if fixed is not None else today

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_settings(
        cls, settings: ConnectorSettings, *, client: httpx.Client | None = None
    ) -> ES2Connector:
        creds = {name: settings.secret(name) for name in ("client_id", "client_secret")}
        http = client or httpx.Client(base_url=settings.base_url, timeout=settings.timeout)
        return cls(
            http,
            school=settings.remote_school,
            credentials=creds,
            options=ES2Options.parse(settings.options),
            attempts=settings.retries + 1,
            retry_budget=settings.retry_budget,
            limits=Limits.from_settings(settings, deadline=DEADLINE, max_body_mb=MAX_BODY_MB),
        )

    @classmethod
    def declared_capabilities(cls) -> Capabilities:
        return Capabilities(
            system=SYSTEM,
            pull=dict(READ_MODES),
            push=frozenset(PUSH_PATHS),
            push_batch_size=500,
            max_window_days=92,
        )

    def capabilities(self) -> Capabilities:
        return self.declared_capabilities()

    # -- contract -------------------------------------------------------------------------------
    def check(self) -> None:
        self.api.get(self.api.school_path("groups"), {"limit": 1})

    def close(self) -> None:
        self.api.http.close()

    def poll(self, tickets: Sequence[str]) -> list[PushResult]:
        return []  # ES2 answers pushes synchronously

    def pull(self, entity: Entity | None, state: State | None) -> Iterator[Page]:
        if entity is None or entity not in PATHS:
            raise ConfigError(f"ES2 does not serve {entity}", key="es2.entities")
        mode = READ_MODES[entity]
        if mode is ReadMode.INCREMENTAL:
            return self._pull_incremental(entity, state or {})
        if mode is ReadMode.WINDOWED:
            return self._pull_lessons(state)
        return self._pull_snapshot(entity, state or {})

    def push(self, entity: Entity, items: Sequence[PushItem]) -> list[PushResult]:
        path = PUSH_PATHS.get(entity)
        if path is None:
            raise ConfigError(f"ES2 takes no pushes of {entity}", key="es2.entities")
        results: list[PushResult] = []
        for batch in batches(items, self.options.push_batch_size):
            body = [wire_item(it) for it in batch]
            env = self.api.post(
                self.api.school_path(path),
                {"items": body},
                headers={"Idempotency-Key": idempotency_key(entity, body)},
            )
            results.extend(results_for(batch, env.data))
        return results

    # -- reads ----------------------------------------------------------------------------------
    def _fetcher(self, entity: Entity, params: dict[str, Any]) -> Callable[[str | None], Any]:
        path = self.api.school_path(PATHS[entity])

        def fetch(cursor: str | None) -> Any:
            query = {**params, "limit": self.options.page_size}
            if cursor is not None:
                query["cursor"] = cursor
            return self.api.get(path, query)

        return fetch

    def _pages(
        self,
        entity: Entity,
        params: dict[str, Any],
        cursor: str | None = None,
        revision: int | None = None,
    ) -> Iterator[RawPage]:
        return read_pages(
            self._fetcher(entity, params),
            start_cursor=cursor,
            start_revision=revision,
            max_restarts=self.options.max_restarts,
        )

    def _pull_snapshot(self, entity: Entity, state: State) -> Iterator[Page]:
        for raw in self._pages(entity, {}):
            last = raw.next_cursor is None
            new_state = {"revision": raw.revision} if last else dict(state)
            if raw.attempt:
                new_state["attempt"] = raw.attempt
            yield Page(
                entity,
                raw.items,
                new_state,
                snapshot=True,
                complete=last,
            )

    def _pull_incremental(self, entity: Entity, state: State) -> Iterator[Page]:
        since = state.get("changed_since")
        cursor = state.get("cursor")
        watermark = _parse_time(state.get("watermark")) if cursor else None
        params = {"changed_since": since} if since else {}
        snapshot = since is None and cursor is None
        attempt = 0
        for raw in self._pages(entity, params, cursor, state.get("revision") if cursor else None):
            if raw.attempt != attempt:  # restarted: the watermark of the abandoned read is void
                attempt, watermark = raw.attempt, None
            for item in raw.items:
                seen = _parse_time(item.get("updated_at"))
                if seen is not None and (watermark is None or seen > watermark):
                    watermark = seen
            if raw.next_cursor is None:
                new_state: State = {
                    "changed_since": self._next_since(since, watermark),
                    "revision": raw.revision,
                }
            else:
                new_state = {
                    "changed_since": since,
                    "cursor": raw.next_cursor,
                    "revision": raw.revision,
                    "watermark": watermark.isoformat() if watermark else None,
                }
            if raw.attempt:
                new_state["attempt"] = raw.attempt
            yield Page(
                entity,
                raw.items,
                new_state,
                snapshot=snapshot,
                complete=snapshot and raw.next_cursor is None,
            )

    def _next_since(self, since: str | None, watermark: dt.datetime | None) -> str | None:
        if watermark is None:
            return since
        candidate = watermark - dt.timedelta(seconds=self.options.changed_since_overlap_s)
        old = _parse_time(since)
        if old is not None and old > candidate:
            candidate = old
        return candidate.isoformat()

    def _pull_lessons(self, state: State | None) -> Iterator[Page]:
        today = self._today()
        year_start, year_end = self.options.academic_year(today)
        start, end = year_start, year_end
        # only a read that went through every window ends with ``read_to``; a state saved in
        # the middle of a first read (the pages before its end carry the state it began with)
        # makes the next read start the whole year again, not just the recent windows
        if state and state.get("read_to"):
            start = max(year_start, today - dt.timedelta(days=self.options.lesson_recent_days))
            end = min(year_end, today + dt.timedelta(days=self.options.lesson_ahead_days))
        spans = windows(start, end, self.options.lesson_window_days)
        for n, (w_from, w_to) in enumerate(spans, start=1):
            scope = Scope(w_from, w_to)
            params = {"start": w_from.isoformat(), "end": w_to.isoformat()}
            for raw in self._pages(Entity.LESSONS, params):
                last = raw.next_cursor is None
                new_state: State = (
                    {"read_to": w_to.isoformat(), "revision": raw.revision}
                    if last and n == len(spans)
                    else dict(state or {})
                )
                yield Page(
                    Entity.LESSONS, raw.items, new_state, snapshot=True, complete=last, scope=scope
                )


def _parse_time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
