"""Schedules: when each school's system is pulled and pushed (pure functions and the ``[schedule]``
table of the configuration).

A job's time is a cron expression read in a time zone (``[schedule] timezone``, else the school's
own), moved by the school's *jitter*: a fixed offset between 0 and ``jitter_minutes`` derived from
the school's id, so 500 schools given ``0 7 * * *`` start spread over the window, each always at
the same minute. Five fields are minutes…weekdays; a sixth, at the end, gives seconds (croniter's
convention — for tests and demos). A system's *blackout* (О7's nightly maintenance, say) is a
daily window in the same time zone: a time that falls inside it moves to the window's end, and
a job about to start inside it waits until then.

Which expression a job follows, first found: the school's own (``[schedule.schools.<id>.<system>]``),
the system's ``schedule`` key in the school's configuration (pulls), ``[schedule.defaults.<system>]``,
``[schedule.defaults."*"]``. None: the job is not scheduled (pushes still run after local writes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zoneinfo
from dataclasses import dataclass
from typing import Annotated

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _cron(v: str | None) -> str | None:
    if v is not None and not croniter.is_valid(v):
        raise ValueError(f"not a cron expression: {v!r} (e.g. '0 7 * * 1-6')")
    return v


class Crons(_Strict):
    """Cron expressions of one system's jobs."""

    pull: str | None = None
    push: str | None = None

    _check = field_validator("pull", "push")(_cron)

    def of(self, direction: str) -> str | None:
        return self.pull if direction == "pull" else self.push


class Blackout(_Strict):
    """A daily window (``HH:MM``, in the schedule's time zone) when a system must not be called;
    ``end`` before ``start`` crosses midnight (``23:30`` → ``04:00``)."""

    start: Annotated[str, Field(pattern=HHMM.pattern)]
    end: Annotated[str, Field(pattern=HHMM.pattern)]

    def times(self) -> tuple[dt.time, dt.time]:
        return dt.time.fromisoformat(self.start), dt.time.fromisoformat(self.end)


class ScheduleSettings(_Strict):
    """The ``[schedule]`` table."""

    #: the time zone cron expressions and blackouts are read in (default: each school's own)
    timezone: str | None = None
    #: schools are spread over this many minutes after their time (fixed per school)
    jitter_minutes: float = Field(default=0, ge=0, le=1440)
    #: per system key (``"*"``: any system), the cron expressions of its pulls and pushes
    defaults: dict[str, Crons] = Field(default_factory=dict)
    #: per school id and system key, expressions replacing the defaults
    schools: dict[str, dict[str, Crons]] = Field(default_factory=dict)
    #: per system key, a daily maintenance window
    blackouts: dict[str, Blackout] = Field(default_factory=dict)
    #: seconds between looks at the outbox: a school's new pushes are sent this soon
    outbox_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    #: a failed job runs again after a backoff (base × 2^(attempt-1), at most ``retry_max_seconds``)
    retries: int = Field(default=5, ge=0, le=50)
    retry_base_seconds: float = Field(default=60.0, gt=0, le=86_400)
    retry_max_seconds: float = Field(default=3600.0, gt=0, le=86_400)
    #: a job's lock lapses this long after its worker's last heartbeat (a killed worker)
    lock_ttl_seconds: float = Field(default=60.0, ge=1, le=86_400)
    #: a job waiting this long unchanged is sent to the queue again (its message was lost)
    stale_after_seconds: float = Field(default=1800.0, ge=1, le=7 * 86_400)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                zoneinfo.ZoneInfo(v)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {v!r}") from None
        return v

    def cron(
        self, school_id: str, system: str, direction: str, system_schedule: str | None = None
    ) -> str | None:
        """The expression a job follows (see the module's docstring for the order)."""
        own = self.schools.get(school_id, {}).get(system)
        if own is not None and own.of(direction):
            return own.of(direction)
        if direction == "pull" and system_schedule:
            return system_schedule
        for key in (system, "*"):
            found = self.defaults.get(key)
            if found is not None and found.of(direction):
                return found.of(direction)
        return None

    def backoff(self, attempt: int) -> dt.timedelta:
        return backoff(attempt, self.retry_base_seconds, self.retry_max_seconds)


# -- pure decisions --------------------------------------------------------------------------
def jitter(school_id: str, minutes: float) -> dt.timedelta:
    """The school's fixed offset in ``[0, minutes)``: the same for the same id, spread evenly
    over schools (a hash of the id, not a random draw)."""
    span = int(minutes * 60)
    if span <= 0:
        return dt.timedelta(0)
    digest = hashlib.sha256(school_id.encode("utf-8")).digest()
    return dt.timedelta(seconds=int.from_bytes(digest[:8], "big") % span)


def backoff(attempt: int, base: float, most: float) -> dt.timedelta:
    """The wait before retry number ``attempt`` (1, 2, …): base, 2×base, 4×base, … at most
    ``most`` seconds."""
    return dt.timedelta(seconds=min(most, base * 2 ** max(0, attempt - 1)))


def in_blackout(window: Blackout | None, when: dt.datetime, tz: dt.tzinfo) -> bool:
    if window is None:
        return False
    start, end = window.times()
    t = when.astimezone(tz).time().replace(tzinfo=None)
    if start <= end:
        return start <= t < end
    return t >= start or t < end


def blackout_end(window: Blackout, when: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The end of the window ``when`` falls in (``when`` itself if it falls in none)."""
    if not in_blackout(window, when, tz):
        return when
    local = when.astimezone(tz)
    _, end = window.times()
    candidate = dt.datetime.combine(local.date(), end, tzinfo=tz)
    if candidate <= local:
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), end, tzinfo=tz)
    return candidate.astimezone(dt.UTC)


def next_fire(cron: str, after: dt.datetime, tz: dt.tzinfo, offset: dt.timedelta) -> dt.datetime:
    """The first time after ``after`` the expression fires, read in ``tz`` and moved by
    ``offset`` (UTC)."""
    base = (after - offset).astimezone(tz)
    fired: dt.datetime = croniter(cron, base).get_next(dt.datetime)
    return (fired + offset).astimezone(dt.UTC)


@dataclass(frozen=True)
class JobSchedule:
    """When one job runs: its expression, zone, the school's offset and the system's blackout."""

    cron: str | None
    tz: dt.tzinfo
    offset: dt.timedelta = dt.timedelta(0)
    blackout: Blackout | None = None

    def next_run(self, after: dt.datetime) -> dt.datetime | None:
        """The next time the job starts after ``after``: its fire time, or the end of the
        blackout that time falls in. ``None``: not scheduled."""
        if self.cron is None:
            return None
        fire = next_fire(self.cron, after, self.tz, self.offset)
        return blackout_end(self.blackout, fire, self.tz) if self.blackout else fire

    def next_runs(self, after: dt.datetime, n: int) -> list[dt.datetime]:
        out: list[dt.datetime] = []
        at = after
        while len(out) < n:
            found = self.next_run(at)
            if found is None:
                break
            if not out or found != out[-1]:
                out.append(found)
            at = max(found, next_fire(self.cron or "", at, self.tz, self.offset))
        return out

    def blocked_until(self, when: dt.datetime) -> dt.datetime | None:
        """The end of the blackout ``when`` falls in, else ``None`` (the job may start)."""
        if self.blackout is None or not in_blackout(self.blackout, when, self.tz):
            return None
        return blackout_end(self.blackout, when, self.tz)
