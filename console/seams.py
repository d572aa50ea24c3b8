"""Where other parts of the gateway plug into the console. Each seam is a plain callable the
application passes in :class:`~console.settings.ConsoleSettings`; without it the page says
«нет данных» instead of guessing.

- :data:`NextRuns` — the schedule's next run of each (school, system) on a page of the overview
  (ops: schedules);
- :data:`Backups` — the list of backups (ops: backups);
- :data:`ControlReport` — the journal-control report of a school as HTML to show inside the
  console page (reports: journal control);
- :data:`ApproveHold` — what happens after a person approves a held pull: the application runs
  the held pull again with the hold lifted (it knows the configuration; the console does not).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from store import Store

#: (school, system) pairs on the page → the next scheduled run of each one it knows
NextRuns = Callable[[Sequence[tuple[str, str]]], dict[tuple[str, str], dt.datetime]]


@dataclass(frozen=True, slots=True)
class BackupInfo:
    name: str
    made_at: dt.datetime
    size_bytes: int
    status: str  # ok | failed | running
    detail: str = ""


#: every backup, newest first
Backups = Callable[[], Sequence[BackupInfo]]


@dataclass(frozen=True, slots=True)
class ControlPage:
    """A journal-control report to show: its title, its body as safe HTML (charts inline),
    when it was made."""

    title: str
    html: str
    made_at: dt.datetime | None = None


#: (store, school id) → the school's latest journal-control report, or None when there is none
ControlReport = Callable[[Store, str], ControlPage | None]

#: (store, hold id, who) → a Russian sentence saying what was done (the pull run again, its
#: outcome, or that it will run); the hold is already recorded as approved
ApproveHold = Callable[[Store, int, str], str]
