"""The О7 connector: session RPC, reads by class and date window, pushes of marks and absences.

Pages:

* periods, classes — one snapshot page each;
* pupils, final marks — one page per class, together a school-wide snapshot whose last page is
  ``complete`` (a pupil who moved class must not be deleted from the old one);
* lessons, marks, attendance (``WINDOWED``) — one page per (class, window), each a snapshot of
  ``scope = {"class_id": "o7:<guid>", "date_from", "date_to"}`` that is ``complete`` because the
  whole window came in one answer. A window whose call fails yields no page, so nothing of it is
  deleted; the error then ends the pull;
* teachers, subjects, subgroups — derived from names in other answers (see ``_scan``); never
  snapshots, since a name not seen this time says nothing about its deletion.

Items of per-class calls get ``class_id`` added (О7 leaves it implicit in the request).
State of windowed reads: ``{"recent_windows": N, "last_full": "YYYY-MM-DD"}``; with
``last_full`` set, a read re-reads only the last N windows that have begun.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

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
from connectors.o7._push import MAX_BATCH, PUSH_CALLS, push_batch
from connectors.o7._scan import NameScan
from connectors.o7._session import SYSTEM, O7Session
from connectors.o7._windows import MAX_WINDOW_DAYS, Window, recent_windows, year_windows
from connectors.transport import Limits
from core.entities import Entity
from core.errors import ConfigError, ContractViolation

WireRecord = dict[str, Any]

#: windowed entity → (RPC method, list key of the answer)
WINDOW_CALLS: dict[Entity, tuple[str, str]] = {
    Entity.LESSONS: ("ScheduleService/GetLessons", "lessons"),
    Entity.MARKS: ("MarkService/GetMarks", "marks"),
    Entity.ATTENDANCE: ("AttendanceService/GetAbsences", "absences"),
}
_DERIVED = (Entity.TEACHERS, Entity.SUBJECTS, Entity.SUBGROUPS)
_CACHE_SECONDS = 600.0
#: lessons the name scan keeps for the lessons read that follows it (the first windows that read
#: asks for); the others are asked again, so a pull's memory does not grow with the school's year
LESSONS_KEPT = 5_000
#: a class's window of marks is well under a megabyte; an answer over this is refused
MAX_BODY_MB = 32.0
#: seconds one call may wait on О7, its whole answer included (slow answers take up to 20 s)
DEADLINE = 120.0

CAPABILITIES = Capabilities(
    system=SYSTEM,
    pull={
        Entity.PERIODS: ReadMode.FULL,
        Entity.SUBJECTS: ReadMode.FULL,
        Entity.TEACHERS: ReadMode.FULL,
        Entity.CLASSES: ReadMode.FULL,
        Entity.PUPILS: ReadMode.FULL,
        Entity.SUBGROUPS: ReadMode.FULL,
        Entity.LESSONS: ReadMode.WINDOWED,
        Entity.MARKS: ReadMode.WINDOWED,
        Entity.FINAL_MARKS: ReadMode.FULL,
        Entity.ATTENDANCE: ReadMode.WINDOWED,
    },
    push=frozenset(PUSH_CALLS),
    push_batch_size=MAX_BATCH,
    max_window_days=MAX_WINDOW_DAYS,
)


def _items(answer: dict[str, Any], key: str, method: str) -> list[WireRecord]:
    items = answer.get(key)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ContractViolation(f"{method}: the answer has no list {key!r}", system=SYSTEM)
    return items


def _date_option(options: Mapping[str, Any], key: str, default: dt.date) -> dt.date:
    raw = options.get(key)
    if raw is None:
        return default
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise ConfigError("must be a date YYYY-MM-DD", key=f"options.{key}") from None


def default_year(today: dt.date) -> tuple[dt.date, dt.date]:
    """1 September .. 31 August of the academic year ``today`` falls in."""
    first = today.year if today.month >= 9 else today.year - 1
    return dt.date(first, 9, 1), dt.date(first + 1, 8, 31)


def school_year(
    options: Mapping[str, Any], today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The academic year a connector reads: ``year_start``/``year_end`` options, else the year
    ``today`` falls in."""
    start, end = default_year(today or dt.date.today())
    return _date_option(options, "year_start", start), _date_option(options, "year_end", end)


class O7Connector:
    """Connector for «О7.Образование – Электронная школа» (see ``shared/specs/o7.md``)."""

    system = SYSTEM

    def __init__(
        self,
        session: O7Session,
        *,
        school_id: str,
        year_start: dt.date,
        year_end: dt.date,
        recent: int = 2,
        max_window_days: int = MAX_WINDOW_DAYS,
        today: Callable[[], dt.date] = dt.date.today,
        client: httpx.Client | None = None,
    ) -> None:
        if not 1 <= max_window_days <= MAX_WINDOW_DAYS:
            raise ConfigError(
                f"must be 1..{MAX_WINDOW_DAYS} (О7 refuses longer windows)",
                key="options.max_window_days",
            )
        self.session = session
        self.school_id = school_id
        self.windows = year_windows(year_start, year_end, max_window_days)
        self.recent = recent
        self._today = today
        self._owned_client = client
        self._classes: list[WireRecord] | None = None
        self._scan: tuple[float, NameScan] | None = None
        self._lesson_cache: dict[tuple[str, Window], list[WireRecord]] = {}

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def declared_capabilities(cls) -> Capabilities:
        return CAPABILITIES

    @classmethod
    def from_settings(
        cls,
        settings: ConnectorSettings,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> O7Connector:
        login = settings.secret("login")
        password = SecretStr(settings.secret("password"))
        options = settings.options
        owned = None
        if client is None:
            # slow answers take up to 20 s: the read timeout must exceed that
            timeout = httpx.Timeout(max(settings.timeout, 25.0), connect=10.0)
            client = owned = httpx.Client(base_url=settings.base_url, timeout=timeout)
        session = O7Session(
            client,
            login=login,
            password=password,
            attempts=settings.retries + 1,
            max_wait=float(options.get("retry_max_wait", 30.0)),
            retry_budget=settings.retry_budget,
            sleep=sleep,
            limits=Limits.from_settings(settings, deadline=DEADLINE, max_body_mb=MAX_BODY_MB),
        )
        start, end = school_year(options)
        return cls(
            session,
            school_id=settings.remote_school,
            year_start=start,
            year_end=end,
            recent=int(options.get("recent_windows", 2)),
            max_window_days=int(options.get("max_window_days", MAX_WINDOW_DAYS)),
            client=owned,
        )

    # -- the contract -----------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def check(self) -> None:
        self.session.login()
        self.session.call("SchoolService/GetClasses", {"school_id": self.school_id})

    def close(self) -> None:
        if self._owned_client is not None:
            self._owned_client.close()

    def poll(self, tickets: Sequence[str]) -> list[PushResult]:
        return []  # О7 answers pushes synchronously

    def push(self, entity: Entity, items: Sequence[PushItem]) -> list[PushResult]:
        if entity not in PUSH_CALLS:
            raise ConfigError(f"О7 takes no writes of {entity}", key=f"entities.{entity}")
        return push_batch(self.session.call, entity, items)

    def pull(self, entity: Entity | None, state: State | None) -> Iterator[Page]:
        if entity is None or entity not in CAPABILITIES.pull:
            raise ConfigError(f"О7 cannot be read for {entity}", key="entities")
        if entity in WINDOW_CALLS:
            yield from self._windowed(entity, state)
        elif entity in _DERIVED:
            yield from self._derived(entity)
        elif entity is Entity.PERIODS:
            answer = self.session.call("SchoolService/GetSubperiods", {"school_id": self.school_id})
            records = _items(answer, "subperiods", "GetSubperiods")
            yield Page(entity, records, {}, snapshot=True, complete=True)
        elif entity is Entity.CLASSES:
            yield Page(entity, list(self.classes(refresh=True)), {}, snapshot=True, complete=True)
        else:
            yield from self._per_class(entity)

    # -- reads ------------------------------------------------------------------------------------

    def classes(self, *, refresh: bool = False) -> list[WireRecord]:
        if self._classes is None or refresh:
            answer = self.session.call("SchoolService/GetClasses", {"school_id": self.school_id})
            self._classes = _items(answer, "classes", "GetClasses")
        return self._classes

    def _class_ids(self) -> list[str]:
        return [str(c["class_id"]) for c in self.classes()]

    def _pupils(self, class_id: str) -> list[WireRecord]:
        answer = self.session.call("PupilService/GetPupils", {"class_id": class_id})
        return [{**p, "class_id": class_id} for p in _items(answer, "pupils", "GetPupils")]

    def _totals(self, class_id: str) -> list[WireRecord]:
        answer = self.session.call("MarkService/GetTotalMarks", {"class_id": class_id})
        return [
            {**p, "class_id": class_id} for p in _items(answer, "period_marks", "GetTotalMarks")
        ]

    def _per_class(self, entity: Entity) -> Iterator[Page]:
        read = self._pupils if entity is Entity.PUPILS else self._totals
        ids = self._class_ids()
        for n, class_id in enumerate(ids):
            last = n == len(ids) - 1
            yield Page(entity, read(class_id), {}, snapshot=True, complete=last)
        if not ids:
            yield Page(entity, [], {}, snapshot=True, complete=True)

    def window_read(self, entity: Entity, class_id: str, window: Window) -> list[WireRecord]:
        """One whole window of one class: the answer's items, each with ``class_id`` added."""
        if window.days > MAX_WINDOW_DAYS:
            raise ContractViolation(
                f"a {window.days}-day window was about to be asked", system=SYSTEM
            )
        if entity is Entity.LESSONS:
            cached = self._lesson_cache.pop((class_id, window), None)
            if (
                cached is not None
                and self._scan
                and time.monotonic() - self._scan[0] < _CACHE_SECONDS
            ):
                return cached
        method, key = WINDOW_CALLS[entity]
        answer = self.session.call(method, {"class_id": class_id, **window.wire()})
        return [{**item, "class_id": class_id} for item in _items(answer, key, method)]

    def windows_for(self, state: State | None) -> list[Window]:
        if state and state.get("last_full"):
            return recent_windows(self.windows, self._today(), self.recent)
        return list(self.windows)

    def _windowed(self, entity: Entity, state: State | None) -> Iterator[Page]:
        incremental = bool(state and state.get("last_full"))
        windows = self.windows_for(state)
        last_full = str(state["last_full"]) if incremental and state else self._today().isoformat()
        done_state: State = {"recent_windows": self.recent, "last_full": last_full}
        carry: State = dict(state or {})
        ids = self._class_ids()
        pairs = [(c, w) for c in ids for w in windows]
        for n, (class_id, window) in enumerate(pairs):
            records = self.window_read(entity, class_id, window)
            scope = Scope(window.start, window.end, class_id)
            page_state = done_state if n == len(pairs) - 1 else carry
            yield Page(entity, records, page_state, snapshot=True, complete=True, scope=scope)
        if not pairs:
            yield Page(entity, [], done_state)

    def name_scan(self) -> NameScan:
        """Read classes, pupils, period marks and the year's lessons once; names from them. The
        first :data:`LESSONS_KEPT` lessons are kept for the lessons read."""
        if self._scan is not None and time.monotonic() - self._scan[0] < _CACHE_SECONDS:
            return self._scan[1]
        scan = NameScan()
        self._lesson_cache.clear()
        kept = 0
        for item in self.classes(refresh=True):
            scan.add_class(item)
        for class_id in self._class_ids():
            for pupil in self._pupils(class_id):
                scan.add_pupil(class_id, pupil)
            for total in self._totals(class_id):
                scan.add_total(total)
            for window in self.windows:
                lessons = self.window_read(Entity.LESSONS, class_id, window)
                if kept + len(lessons) <= LESSONS_KEPT:
                    self._lesson_cache[(class_id, window)] = lessons
                    kept += len(lessons)
                for lesson in lessons:
                    scan.add_lesson(class_id, lesson)
        self._scan = (time.monotonic(), scan)
        return scan

    def _derived(self, entity: Entity) -> Iterator[Page]:
        scan = self.name_scan()
        records = {
            Entity.TEACHERS: scan.teacher_records,
            Entity.SUBJECTS: scan.subject_records,
            Entity.SUBGROUPS: scan.subgroup_records,
        }[entity]()
        yield Page(entity, records, {})
