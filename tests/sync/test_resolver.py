"""Identity resolution of a page: references looked up, or the whole map read once when many;
lessons (many in a year) looked up page by page unless a dry run caches them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.entities import Entity
from mapping.model import Lesson, Mark
from store import Store, Tx
from sync.resolver import LEAVES, WHOLE, IdentityResolver, Resolved
from tests.store.conftest import AT, SCHOOL


class _CountingIdentity:
    def __init__(self, inner: Any, counts: Counting) -> None:
        self._inner = inner
        self._counts = counts

    def lookup(self, school: str, system: str, entity: Entity, ext_ids: Any) -> dict[str, str]:
        wanted = list(ext_ids)
        self._counts.lookups.append((entity, len(wanted)))
        return dict(self._inner.lookup(school, system, entity, wanted))

    def links_of(self, school: str, system: str, entity: Entity) -> dict[str, str]:
        self._counts.whole.append(entity)
        return dict(self._inner.links_of(school, system, entity))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class Counting:
    """The transaction, with a count of the identity-map reads made through it."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self.lookups: list[tuple[Entity, int]] = []
        self.whole: list[Entity] = []
        self.identity = _CountingIdentity(tx.identity, self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


def _mark(n: int, lesson: str) -> Mark:
    return Mark(
        id=f"es2:M{n}",
        school_id=SCHOOL,
        ext_ids={"es2": f"M{n}"},
        modified_at=AT,
        pupil_id="es2:P1",
        lesson_id=f"es2:{lesson}",
        value="5",
    )


def _lesson(ext: str) -> Lesson:
    return Lesson(
        id=f"es2:{ext}",
        school_id=SCHOOL,
        ext_ids={"es2": ext},
        class_id="class-5a",
        subject_id="subject-math",
        teacher_id="teacher-1",
        date=dt.date(2026, 2, 3),
        number=1,
    )


def _marks_page(resolver: IdentityResolver, tx: Counting, count: int) -> Resolved:
    """A page of ``count`` marks, each naming lesson ``L<n>``."""
    page = [_mark(n, f"L{n}") for n in range(count)]
    return resolver.resolve_page(tx, Entity.MARKS, page)  # type: ignore[arg-type]


def _linked(store: Store, lessons: int) -> None:
    with store.begin() as tx:
        tx.identity.link_agreed(SCHOOL, "es2", Entity.PUPILS, [("P1", "pupil-1", None)])
        tx.identity.link_agreed(
            SCHOOL, "es2", Entity.LESSONS, [(f"L{n}", f"lesson-{n}", None) for n in range(lessons)]
        )


def test_many_references_read_the_whole_map_once_and_later_links_join_it(store: Store) -> None:
    """With lessons cached for the run (a dry run: its units roll back)."""
    _linked(store, WHOLE + 100)
    resolver = IdentityResolver("es2", SCHOOL, paged=LEAVES)
    with store.begin() as raw:
        tx = Counting(raw)
        first = _marks_page(resolver, tx, WHOLE)
        assert not first.errors
        assert [m.lesson_id for m in first.items] == [f"lesson-{n}" for n in range(WHOLE)]
        assert tx.whole == [Entity.LESSONS]
        assert Entity.LESSONS not in {e for e, _ in tx.lookups}

        # a lesson first seen later in the run is linked and minted; marks naming it resolve
        made = resolver.resolve_page(tx, Entity.LESSONS, [_lesson("L-new")])  # type: ignore[arg-type]
        assert [ext for ext, _ in made.new_links] == ["L-new"]
        later = resolver.resolve_page(
            tx,  # type: ignore[arg-type]
            Entity.MARKS,
            [_mark(WHOLE + 1, "L-new"), _mark(WHOLE + 2, f"L{WHOLE + 50}"), _mark(0, "L-gone")],
        )
        assert [m.lesson_id for m in later.items] == [
            made.new_links[0][1],
            f"lesson-{WHOLE + 50}",
        ]
        # a mark naming a lesson the gateway does not have waits for it, whole
        assert later.errors == []
        assert [(rec.id, e.field, e.ref) for rec, e in later.waiting] == [
            ("es2:M0", "lesson_id", "es2:L-gone")
        ]
        assert tx.whole == [Entity.LESSONS]  # read once
        assert Entity.LESSONS not in {e for e, _ in tx.lookups}  # and never looked up since


def test_lessons_are_looked_up_page_by_page_and_never_cached(store: Store) -> None:
    """The default: a year of lessons is not held for the run (memory stays flat); each page
    of marks reads its own lessons in one query, and a lesson linked later in the run is found."""
    _linked(store, WHOLE + 100)
    resolver = IdentityResolver("es2", SCHOOL)
    with store.begin() as raw:
        tx = Counting(raw)
        first = _marks_page(resolver, tx, WHOLE)
        assert [m.lesson_id for m in first.items] == [f"lesson-{n}" for n in range(WHOLE)]
        assert tx.whole == []
        assert (Entity.LESSONS, WHOLE) in tx.lookups
        made = resolver.resolve_page(tx, Entity.LESSONS, [_lesson("L-new")])  # type: ignore[arg-type]
        assert [ext for ext, _ in made.new_links] == ["L-new"]
        # the pull writes a page's new links with the page (here: by hand)
        raw.identity.link_agreed(
            SCHOOL, "es2", Entity.LESSONS, [("L-new", made.new_links[0][1], None)]
        )
        tx.lookups.clear()
        later = resolver.resolve_page(
            tx,  # type: ignore[arg-type]
            Entity.MARKS,
            [_mark(WHOLE + 1, "L-new"), _mark(WHOLE + 2, f"L{WHOLE + 50}"), _mark(0, "L-gone")],
        )
        assert [m.lesson_id for m in later.items] == [
            made.new_links[0][1],
            f"lesson-{WHOLE + 50}",
        ]
        assert [(rec.id, e.ref) for rec, e in later.waiting] == [("es2:M0", "es2:L-gone")]
        assert tx.lookups.count((Entity.LESSONS, 3)) == 1  # this page's lessons, one query
        assert tx.whole == []
        assert Entity.LESSONS not in resolver._cache  # nothing of lessons kept for the run


def test_a_few_references_are_looked_up(store: Store) -> None:
    _linked(store, 10)
    resolver = IdentityResolver("es2", SCHOOL)
    with store.begin() as raw:
        tx = Counting(raw)
        out = _marks_page(resolver, tx, 5)
        assert [m.lesson_id for m in out.items] == [f"lesson-{n}" for n in range(5)]
        assert tx.whole == []
        assert (Entity.LESSONS, 5) in tx.lookups


def test_a_rolled_back_unit_forgets_the_whole_map(store: Store) -> None:
    _linked(store, WHOLE)
    resolver = IdentityResolver("es2", SCHOOL, paged=LEAVES)
    with store.begin() as raw:
        tx = Counting(raw)
        _marks_page(resolver, tx, WHOLE)
        assert tx.whole == [Entity.LESSONS]
    resolver.reset()
    with store.begin() as raw:
        tx = Counting(raw)
        resolver.resolve_page(tx, Entity.MARKS, [_mark(1, "L1")])  # type: ignore[arg-type]
        assert (Entity.LESSONS, 1) in tx.lookups  # the cache is gone: looked up again


def _own_lookups(tx: Counting) -> list[int]:
    return [n for e, n in tx.lookups if e is Entity.MARKS]


def _marks(numbers: range) -> list[Mark]:
    return [_mark(n, "L1") for n in numbers]


def test_a_first_read_asks_the_map_only_for_ids_the_run_linked(store: Store) -> None:
    """No mark of the school was linked when the run began: a page's own ids are not looked
    up, except those the run itself linked on an earlier page (a system sending one twice)."""
    _linked(store, 10)
    resolver = IdentityResolver("es2", SCHOOL)
    with store.begin() as raw:
        tx = Counting(raw)
        first = resolver.resolve_page(tx, Entity.MARKS, _marks(range(200)))  # type: ignore[arg-type]
        assert len(first.items) == 200 and len(first.new_links) == 200
        assert sum(_own_lookups(tx)) == 0
        raw.identity.link_agreed(
            SCHOOL, "es2", Entity.MARKS, [(e, g, None) for e, g in first.new_links]
        )
        gid_of = dict(first.new_links)
        tx.lookups.clear()
        # marks 190–199 come again on the next page: found, not minted afresh
        second = resolver.resolve_page(tx, Entity.MARKS, _marks(range(190, 390)))  # type: ignore[arg-type]
        again = {m.ext_ids["es2"]: m.id for m in second.items if m.ext_ids["es2"] in gid_of}
        assert again == {f"M{n}": gid_of[f"M{n}"] for n in range(190, 200)}
        assert {ext for ext, _ in second.new_links} == {f"M{n}" for n in range(200, 390)}
        asked = sum(_own_lookups(tx))
        assert 10 <= asked < 20  # the ten, and at most a few whose hash bits another set


def test_a_read_after_links_exist_asks_for_every_id(store: Store) -> None:
    _linked(store, 10)
    with store.begin() as tx:
        tx.identity.link_agreed(
            SCHOOL, "es2", Entity.MARKS, [(f"M{n}", f"mark-{n}", None) for n in range(10)]
        )
    resolver = IdentityResolver("es2", SCHOOL)
    with store.begin() as raw:
        tx = Counting(raw)
        out = resolver.resolve_page(tx, Entity.MARKS, _marks(range(20)))  # type: ignore[arg-type]
        assert _own_lookups(tx) == [20]
        assert [m.id for m in out.items[:10]] == [f"mark-{n}" for n in range(10)]


def test_after_a_rolled_back_unit_every_id_is_asked_for(store: Store) -> None:
    """Links the run committed before the rollback are in the map but would be missing from a
    new bitmap: the rest of the run looks every id up."""
    _linked(store, 10)
    resolver = IdentityResolver("es2", SCHOOL)
    with store.begin() as raw:
        tx = Counting(raw)
        first = resolver.resolve_page(tx, Entity.MARKS, _marks(range(5)))  # type: ignore[arg-type]
        raw.identity.link_agreed(
            SCHOOL, "es2", Entity.MARKS, [(e, g, None) for e, g in first.new_links]
        )
    resolver.reset()
    with store.begin() as raw:
        tx = Counting(raw)
        out = resolver.resolve_page(tx, Entity.MARKS, _marks(range(8)))  # type: ignore[arg-type]
        assert _own_lookups(tx) == [8]
        assert [m.id for m in out.items[:5]] == [g for _, g in first.new_links]
