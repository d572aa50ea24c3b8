"""The console's settings: cookies, sessions, the lock-out after failed sign-ins, the schools and
systems the configuration names, and the seams (:mod:`console.seams`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from console.seams import ApproveHold, Backups, ControlReport, NextRuns


@dataclass(frozen=True)
class ConsoleSettings:
    #: cookies only over HTTPS (browsers also keep them on http://localhost and 127.0.0.1)
    cookie_secure: bool = True
    session_ttl: dt.timedelta = dt.timedelta(hours=12)
    #: this many failed sign-ins as one login within ``lockout_window`` lock it for the window
    lockout_failures: int = 5
    lockout_window: dt.timedelta = dt.timedelta(minutes=15)
    #: the (school, system) pairs the configuration names (shown before their first run)
    configured: Sequence[tuple[str, str]] = ()
    #: a school's time zone (times are shown in it); others: Europe/Moscow
    timezones: Mapping[str, str] = field(default_factory=dict)
    #: a school's name from the configuration, for schools whose record the store lacks
    school_names: Mapping[str, str] = field(default_factory=dict)
    page_size: int = 50
    next_runs: NextRuns | None = None
    backups: Backups | None = None
    control_report: ControlReport | None = None
    approve_hold: ApproveHold | None = None
