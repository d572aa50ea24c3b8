"""The console's seams (:mod:`console.seams`) in a configured gateway: the schedules' next runs
(:mod:`ops.schedule` through :func:`schoolgate.service.schedules`), the backups of ``[backup]
dir`` (:mod:`ops.backup`) and the journal-control report (:mod:`reports.control`). The console
knows none of ops or the configuration; ``schoolgate serve`` passes these in.

The control report is built in the background when a page asks for it and kept per school until
the store changes (the change log's last position) or the day does: the large school's report
takes seconds to build (at the year's end its month checks the whole year's period marks), a
page must answer in a fraction of one."""

from __future__ import annotations

import datetime as dt
import threading
import time
import zoneinfo
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from console.seams import BackupInfo, Backups, ControlPage, NextRuns
from core.errors import ConfigError
from mapping.model import Period
from ops.backup import list_backups
from ops.schedule import JobSchedule
from reports.control import ControlSettings, control_fragment, run_control
from schoolgate import runner
from schoolgate.config import GatewayConfig
from store import Store, Tx
from store.types import utcnow
from sync.rules import Deadlines

Clock = Callable[[], dt.datetime]
log = structlog.get_logger("schoolgate.console")
DEFAULT_TZ = "Europe/Moscow"


# -- next runs -------------------------------------------------------------------------------------
def next_runs(cfg: GatewayConfig, clock: Clock = utcnow) -> NextRuns:
    """The earliest next run (pull or push) of each configured (school, system) with a
    schedule, as of the moment the page asks."""
    from schoolgate.service import schedules

    by_pair: dict[tuple[str, str], list[JobSchedule]] = {}
    for key, schedule in schedules(cfg).items():
        if schedule.cron is not None:
            by_pair.setdefault((key.school_id, key.system), []).append(schedule)

    def find(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dt.datetime]:
        now = clock()
        out: dict[tuple[str, str], dt.datetime] = {}
        for pair in pairs:
            times = [t for s in by_pair.get(pair, ()) if (t := s.next_run(now)) is not None]
            if times:
                out[pair] = min(times)
        return out

    return find


# -- backups ---------------------------------------------------------------------------------------
def backups(directory: Path) -> Backups:
    """The backups in ``directory`` as their manifests give them, newest first. A backup whose
    manifest is unreadable, or whose files are missing or of another size than it says, is
    listed as failed with the reason (checksums are for ``schoolgate restore``: too slow here)."""

    def listed() -> list[BackupInfo]:
        out: list[BackupInfo] = []
        for b in reversed(list_backups(directory)):
            if b.manifest is None:
                made = dt.datetime.fromtimestamp(b.path.stat().st_mtime, dt.UTC)
                size = sum(p.stat().st_size for p in b.path.iterdir() if p.is_file())
                out.append(BackupInfo(b.path.name, made, size, "failed", b.problem or ""))
                continue
            m = b.manifest
            problems = []
            for f in m.files:
                path = b.path / f.name
                if not path.is_file():
                    problems.append(f"нет файла {f.name}")
                elif path.stat().st_size != f.size:
                    problems.append(f"{f.name}: размер не совпадает с манифестом")
            rows = f"{m.total_rows:,}".replace(",", "\u202f")
            detail = (
                "; ".join(problems)
                if problems
                else f"{m.store_kind}, ревизия схемы {m.revision}, строк {rows}"
            )
            size = sum(f.size for f in m.files)
            out.append(
                BackupInfo(b.path.name, m.created_at, size, "failed" if problems else "ok", detail)
            )
        return out

    return listed


# -- the journal-control report --------------------------------------------------------------------
def report_day(periods: Sequence[Period], today: dt.date) -> dt.date | None:
    """The last day the console's report may cover: today, or the last day of the school year
    when it is over; ``None``: the school has no periods (nothing synced yet)."""
    if not periods:
        return None
    return min(today, max(p.end for p in periods))


def latest_lesson_day(
    tx: Tx, school_id: str, periods: Sequence[Period], today: dt.date
) -> dt.date | None:
    """The day of the report: today in term (a day some period covers); else — holidays, or
    the year over — the day of the school's latest lesson before it (the latest stored data: a
    journal synced until October shows October's report in November); ``None``: no lesson."""
    if any(p.start <= today <= p.end for p in periods):
        return today
    day = report_day(periods, today)
    if day is None:
        return None
    first = min(p.start for p in periods)
    days = [k.date for k in tx.queries.lesson_keys(school_id).values() if first <= k.date <= day]
    return max(days, default=None)


#: what a page shows while the school's first report is being built
BUILDING = ControlPage(
    title="Отчёт составляется",
    html='<p class="empty">Отчёт составляется: для большой школы это может занять до минуты. '
    "Обновите страницу чуть позже.</p>",
)


@dataclass(frozen=True, slots=True)
class _Kept:
    key: tuple[int, dt.date]
    page: ControlPage | None
    built: float  # time.monotonic()


@dataclass
class ControlReports:
    """The :data:`~console.seams.ControlReport` seam: the school's report for the month of
    :func:`latest_lesson_day`, at most ``row_limit`` rows of each detail section.

    A report is built in a thread of its own, one at a time, and kept per school (the last
    ``keep`` schools asked). A page never waits for more than ``wait`` seconds: the school's
    first report still being built, the page says so; a report the store has changed under
    since (the change log's position) is shown while a new one is built, or as it is when it is
    younger than ``refresh_after`` seconds and of the same day (a sync writing all day long does
    not rebuild it on every look). Statements of a page: one (the change log's position); of a
    build, the roster, at most one for the report's day, and the report's own."""

    settings: ControlSettings
    timezones: dict[str, str]
    names: dict[str, str]
    deadlines: Callable[[str, dt.tzinfo], Deadlines]
    row_limit: int = 50
    keep: int = 32
    wait: float = 0.1
    refresh_after: float = 60.0
    clock: Clock = utcnow
    _kept: OrderedDict[str, _Kept] = field(default_factory=OrderedDict)
    _building: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _one_at_a_time: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, cfg: GatewayConfig, **kw: object) -> ControlReports:
        def deadlines(school_id: str, tz: dt.tzinfo) -> Deadlines:
            try:
                return runner.deadlines_of(cfg, school_id)
            except ConfigError:  # a school in the store the configuration no longer names
                return cfg.sync.deadlines(tz)

        return cls(
            cfg.control,
            {s.id: s.timezone for s in cfg.schools},
            {s.id: s.name for s in cfg.schools},
            deadlines,
            **kw,  # type: ignore[arg-type]
        )

    def _tz(self, school_id: str) -> dt.tzinfo:
        return zoneinfo.ZoneInfo(self.timezones.get(school_id, DEFAULT_TZ))

    def _key(self, tx: Tx, school_id: str) -> tuple[int, dt.date]:
        return tx.changes.last_position(), self.clock().astimezone(self._tz(school_id)).date()

    def __call__(self, store: Store, school_id: str) -> ControlPage | None:
        with store.read() as tx:
            key = self._key(tx, school_id)
        with self._lock:
            kept = self._kept.get(school_id)
            if kept is not None:
                self._kept.move_to_end(school_id)
                young = time.monotonic() - kept.built < self.refresh_after
                if kept.key == key or (kept.key[1] == key[1] and young):
                    return kept.page
            done = self._start(store, school_id, key)
        if kept is not None:
            return kept.page  # the new one is on its way
        if done.wait(self.wait):
            with self._lock:
                kept = self._kept.get(school_id)
            if kept is not None:
                return kept.page
        return BUILDING

    def _start(self, store: Store, school_id: str, key: tuple[int, dt.date]) -> threading.Event:
        """The school's build under way, or a new one (the lock held)."""
        done = self._building.get(school_id)
        if done is None:
            done = self._building[school_id] = threading.Event()
            threading.Thread(
                target=self._run,
                args=(store, school_id, key, done),
                name="control-report",
                daemon=True,
            ).start()
        return done

    def _run(
        self, store: Store, school_id: str, key: tuple[int, dt.date], done: threading.Event
    ) -> None:
        """Build the report and keep it under ``key`` (read before: a change since makes the
        next look build it again, never show an old report as new)."""
        try:
            with self._one_at_a_time, store.read() as tx:
                try:
                    page = self._build(tx, school_id, self._tz(school_id), self.clock())
                except Exception as exc:  # on the page and in the log: the school's id and
                    # the kind of error alone (a message might quote a record)
                    log.error(
                        "control report failed", school_id=school_id, error=type(exc).__name__
                    )
                    page = ControlPage(
                        title="Отчёт не составлен",
                        html=f'<p class="empty">Отчёт не составлен ({type(exc).__name__}); '
                        "подробности — в журнале шлюза.</p>",
                    )
            with self._lock:
                self._kept[school_id] = _Kept(key, page, time.monotonic())
                self._kept.move_to_end(school_id)
                while len(self._kept) > self.keep:
                    self._kept.popitem(last=False)
        except Exception as exc:  # the store itself failed: the next look tries again
            log.error("control report failed", school_id=school_id, error=type(exc).__name__)
        finally:
            with self._lock:
                self._building.pop(school_id, None)
            done.set()

    def _build(self, tx: Tx, school_id: str, tz: dt.tzinfo, now: dt.datetime) -> ControlPage | None:
        roster = tx.queries.roster(school_id)
        periods = list(roster.periods.values())
        if not periods:
            return None  # nothing synced yet
        today = now.astimezone(tz).date()
        day = latest_lesson_day(tx, school_id, periods, today)
        # this month's report as of now; else the month of the latest lesson, as of its end
        as_of = now if day is None or (day.year, day.month) == (today.year, today.month) else None
        name = self.names.get(school_id) or tx.queries.school_names([school_id]).get(school_id, "")
        run = run_control(
            tx,
            school_id,
            settings=self.settings,
            deadlines=self.deadlines(school_id, tz),
            tz=tz,
            school_name=name,
            now=as_of or _end_of(day or today, tz),
            roster=roster,
        )
        html = control_fragment(tx, run, row_limit=self.row_limit, generated=now)
        return ControlPage(title=run.scope.label, html=html, made_at=now)


def _end_of(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59), tzinfo=tz).astimezone(dt.UTC)
