"""The facts the domain rules need, read from the store and cached for one run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from core.entities import Entity
from mapping.model import Lesson, Period, Pupil, SchoolClass
from store import Tx
from sync.rules import LessonInfo, Movement, PupilInfo

_PUPIL_FIELDS = ("class_id", "status", "left_date")
_MOVEMENT_FIELDS = ("pupil_id", "date", "kind", "from_class_id", "to_class_id")


#: lessons whose facts are kept between pages (a page needs at most its own lessons)
LESSONS_HELD = 20_000


class StoreFacts:
    """A :class:`~sync.rules.RuleContext` over the store, for one school."""

    def __init__(self, school_id: str) -> None:
        self.school_id = school_id
        self._class_parallel: dict[str, int] = {}
        self._pupil_class: dict[str, str | None] = {}
        self._pupils: dict[str, PupilInfo] = {}
        self._movements: dict[str, tuple[Movement, ...]] = {}
        #: id → (parallels, start, end, closed): read as columns, so that a stored period the
        #: model would refuse cannot stop the rules
        self._periods: dict[str, tuple[frozenset[int], dt.date, dt.date, bool]] = {}
        #: lesson id → (date, class id): a cache of at most :data:`LESSONS_HELD` lessons (a
        #: page's marks have theirs read before they are planned), so a pull's memory does
        #: not grow with the school's year
        self._lessons: dict[str, tuple[dt.date, str]] = {}

    def load_roster(self, tx: Tx) -> None:
        """(Re)read classes, pupils (with their movements) and periods: small, and needed by
        every rule."""
        self._class_parallel = {
            cid: parallel
            for cid, (parallel,) in tx.records.fields_in_school(
                Entity.CLASSES, self.school_id, ("parallel",)
            ).items()
        }
        pupils = tx.records.fields_in_school(Entity.PUPILS, self.school_id, _PUPIL_FIELDS)
        self._pupil_class = {pid: row[0] for pid, row in pupils.items()}
        moves: dict[str, list[tuple[dt.date, str, str | None, str | None]]] = {}
        for pid, date, kind, src, dst in tx.records.fields_in_school(
            Entity.ENROLMENTS, self.school_id, _MOVEMENT_FIELDS
        ).values():
            moves.setdefault(pid, []).append((date, kind, src, dst))
        self._movements = {
            pid: tuple(Movement(d, k, s, t) for d, k, s, t in sorted(rows, key=lambda r: r[0]))
            for pid, rows in moves.items()
        }
        self._pupils = {
            pid: PupilInfo(class_id, status == "active", left, self._movements.get(pid, ()))
            for pid, (class_id, status, left) in pupils.items()
        }
        self._periods = {
            pid: (frozenset(parallels or ()), start, end, bool(closed))
            for pid, (parallels, start, end, closed) in sorted(
                tx.records.fields_in_school(
                    Entity.PERIODS, self.school_id, ("parallels", "start", "end", "closed")
                ).items()
            )
        }

    def prefetch_lessons(self, tx: Tx, ids: Iterable[str]) -> None:
        wanted = set(ids)
        if len(self._lessons) + len(wanted) > LESSONS_HELD:
            self._lessons = {i: f for i in wanted if (f := self._lessons.get(i)) is not None}
        missing = [i for i in wanted if i not in self._lessons]
        if missing:
            for lid, (date, class_id) in tx.records.fields_of(
                Entity.LESSONS, missing, ("date", "class_id")
            ).items():
                self._lessons[lid] = (date, class_id)

    def note_lessons(self, lessons: Iterable[Lesson]) -> None:
        if len(self._lessons) > LESSONS_HELD:
            self._lessons = {}  # read again when marks need them
        for rec in lessons:
            self._lessons[rec.id] = (rec.date, rec.class_id)

    def note_classes(self, classes: Iterable[SchoolClass]) -> None:
        for c in classes:
            self._class_parallel[c.id] = c.parallel

    def note_pupils(self, pupils: Iterable[Pupil]) -> None:
        for p in pupils:
            self._pupil_class[p.id] = p.class_id
            self._pupils[p.id] = PupilInfo(
                p.class_id, p.status == "active", p.left_date, self._movements.get(p.id, ())
            )

    def note_periods(self, periods: Iterable[Period]) -> None:
        for p in periods:
            self._periods[p.id] = (frozenset(p.parallels), p.start, p.end, p.closed)

    # -- RuleContext ----------------------------------------------------------------------
    def lesson(self, lesson_id: str) -> LessonInfo | None:
        fact = self._lessons.get(lesson_id)
        if fact is None:
            return None
        parallel = self._class_parallel.get(fact[1])
        return None if parallel is None else LessonInfo(fact[0], parallel, fact[1])

    def pupil(self, pupil_id: str) -> PupilInfo | None:
        return self._pupils.get(pupil_id)

    def pupil_parallel(self, pupil_id: str) -> int | None:
        class_id = self._pupil_class.get(pupil_id)
        return None if class_id is None else self._class_parallel.get(class_id)

    def class_parallel(self, class_id: str) -> int | None:
        return self._class_parallel.get(class_id)

    def closed_period(self, parallel: int, day: dt.date) -> str | None:
        for pid, (parallels, start, end, closed) in self._periods.items():
            if closed and parallel in parallels and start <= day <= end:
                return pid
        return None

    def year_of(self, parallel: int) -> tuple[dt.date, dt.date] | None:
        spans = [
            (start, end)
            for parallels, start, end, _ in self._periods.values()
            if parallel in parallels
        ]
        if not spans:
            return None
        return min(s for s, _ in spans), max(e for _, e in spans)

    def period_closed(self, period_id: str) -> bool:
        fact = self._periods.get(period_id)
        return fact is not None and fact[3]
