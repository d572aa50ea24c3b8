"""О7 end to end: the connector and mapping against the simulator over real HTTP on 127.0.0.1.

The generated school is the truth: the О7 pull, with names resolved against the school's roster
(as the gateway does with the roster it already holds from ES2/АСИОУ), must equal it except for
what the О7 contract cannot carry (``NOT_CARRIED``, explained in ``docs/o7.md``). The ES2
end-to-end tests show the ES2 pull equals the same generated school, so the two pulls agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.base import Page
from connectors.o7 import O7Connector, O7Session
from core.entities import PULL_ORDER, Entity
from core.errors import AuthError, TransientError
from fixtures.generator import generate_school
from fixtures.o7 import O7Sim, SimConfig, build_data, create_app
from fixtures.school import SchoolData
from fixtures.serve import serve_in_thread
from mapping.identity import resolve
from mapping.model import Record
from mapping.o7 import NameIndex, O7Context, deletions, map_records
from mapping.profile import load_profile

PROFILE = load_profile("o7")
TODAY = dt.date(2025, 10, 20)
O7_ENTITIES = [e for e in PULL_ORDER if e is not Entity.ENROLMENTS]
#: content fields the О7 contract cannot carry (see docs/o7.md)
NOT_CARRIED: dict[Entity, set[str]] = {
    Entity.PERIODS: {"closed"},
    Entity.SUBJECTS: {"short"},
    Entity.PUPILS: {"snils", "left_date"},
    Entity.MARKS: {"weight"},
}
ATTEMPTS = 3


@pytest.fixture(scope="module")
def school() -> SchoolData:
    return generate_school(2, "tiny")


@pytest.fixture
def sim(school: SchoolData) -> O7Sim:
    return O7Sim(build_data(school), SimConfig(session_ttl=3600))


@pytest.fixture
def base_url(sim: O7Sim) -> Iterator[str]:
    with serve_in_thread(create_app(sim)) as url:
        yield url


def make_connector(base_url: str, sim: O7Sim, password: str = "o7pass") -> O7Connector:
    client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(25.0, connect=5.0))
    session = O7Session(
        client,
        login="o7user",
        password=SecretStr(password),
        attempts=ATTEMPTS,
        wait=lambda _s: 0.0,
        sleep=lambda _s: None,
    )
    return O7Connector(
        session,
        school_id=sim.data.school_guid,
        year_start=dt.date(2025, 9, 1),
        year_end=dt.date(2025, 10, 31),
        today=lambda: TODAY,
        client=client,
    )


def roster_index(school: SchoolData) -> NameIndex:
    return NameIndex.from_roster(
        teachers=school.teachers,
        subjects=school.subjects,
        subgroups=school.subgroups,
        classes=school.classes,
        periods=school.periods,
    )


def _mint(system: str, entity: Entity, ext: str) -> str:
    return f"minted:{system}:{ext}"


@dataclass
class Pulled:
    records: dict[Entity, list[Record]] = field(default_factory=dict)
    pages: dict[Entity, list[Page]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def map(self, page: Page, ctx: O7Context, school: SchoolData) -> list[Record]:
        good, bad = map_records(page.entity, page.records, ctx)
        self.errors.extend(str(e) for e in bad)
        return [resolve(r, school.lookup, _mint) for r in good]


def pull(
    conn: O7Connector,
    school: SchoolData,
    entities: Sequence[Entity],
    states: dict[Entity, Any] | None = None,
) -> Pulled:
    ctx = O7Context(PROFILE, school.school.id, school.year.name, roster_index(school))
    out = Pulled()
    for entity in entities:
        for page in conn.pull(entity, (states or {}).get(entity)):
            out.pages.setdefault(entity, []).append(page)
            out.records.setdefault(entity, []).extend(out.map(page, ctx, school))
    return out


def content(entity: Entity, rec: Record) -> dict[str, Any]:
    data = rec.content()
    for name in NOT_CARRIED.get(entity, ()):
        data.pop(name, None)
    return data


def pair(rec: Record) -> str:
    """An absence's identity: its pupil and lesson."""
    data = rec.content()
    return f"{data['pupil_id']}|{data['lesson_id']}"


def _natural(entity: Entity, rec: Record) -> Any:
    """Records О7 gives no id of are matched on what identifies them."""
    if entity is Entity.ATTENDANCE:
        return pair(rec)
    if entity is Entity.FINAL_MARKS:
        return tuple(getattr(rec, f) for f in ("pupil_id", "subject_id", "period_id", "kind"))
    return rec.id


def by_key(entity: Entity, records: list[Record]) -> dict[Any, dict[str, Any]]:
    return {_natural(entity, r): content(entity, r) for r in records}


def test_full_pull_equals_the_generated_school(
    base_url: str, sim: O7Sim, school: SchoolData
) -> None:
    conn = make_connector(base_url, sim)
    try:
        got = pull(conn, school, O7_ENTITIES)
    finally:
        conn.close()
    assert got.errors == []
    assert sim.login_attempts == 1
    for entity in O7_ENTITIES:
        want = by_key(entity, school.records(entity))
        have = by_key(entity, got.records.get(entity, []))
        if entity is Entity.PERIODS:
            # the year is not a subperiod in О7: only its period marks' code «год» names it
            want = {k: v for k, v in want.items() if v["kind"] != "year"}
        if entity in (Entity.TEACHERS, Entity.SUBJECTS):
            # О7 shows only the names it uses: every one it shows is the roster's record
            assert have and set(have) <= set(want), entity
            want = {k: want[k] for k in have}
        assert have == want, entity
    taught = {les.teacher_id for les in school.lessons}
    assert taught <= {t.id for t in got.records[Entity.TEACHERS]}
    marks = {r.id: r for r in got.records[Entity.MARKS]}
    for m in school.marks:  # О7's `changed`, Moscow local to the second, is the same moment
        assert m.modified_at is not None and marks[m.id].modified_at is not None
        assert abs(marks[m.id].modified_at - m.modified_at) < dt.timedelta(seconds=1)  # type: ignore[operator]


def _scope_of(school: SchoolData) -> dict[str, tuple[str, dt.date]]:
    lessons = {les.id: (les.class_id, les.date) for les in school.lessons}
    return {m.id: lessons[m.lesson_id] for m in school.marks} | {
        f"{a.pupil_id}|{a.lesson_id}": lessons[a.lesson_id] for a in school.attendance
    }


def _in_scope(page: Page, where: tuple[str, dt.date], school: SchoolData) -> bool:
    scope = page.scope
    assert scope.class_id is not None and scope.date_from and scope.date_to
    klass = school.lookup("o7", Entity.CLASSES, scope.class_id)
    return where[0] == klass and scope.date_from <= where[1] <= scope.date_to


def diff_windows(
    pulled: Pulled, entity: Entity, stored: dict[str, Record], school: SchoolData
) -> tuple[set[str], set[str]]:
    """(deleted, changed) ids, the way the sync engine reads windowed snapshot pages."""
    key = (lambda r: r.id) if entity is Entity.MARKS else pair
    scope_of = _scope_of(school)
    records = {key(r): r for r in pulled.records.get(entity, [])}
    deleted: set[str] = set()
    for page in pulled.pages.get(entity, []):
        held = {k for k in stored if _in_scope(page, scope_of[k], school)}
        seen = {k for k, r in records.items() if k in held or _in_scope(page, scope_of[k], school)}
        deleted |= deletions(held, seen, page.complete)
    changed = {
        k for k, r in records.items() if k in stored and stored[k].content_hash != r.content_hash
    }
    return deleted, changed


def test_incremental_window_reread_finds_changes_and_deletions(
    base_url: str, sim: O7Sim, school: SchoolData
) -> None:
    conn = make_connector(base_url, sim)
    try:
        full = pull(conn, school, [Entity.LESSONS, Entity.MARKS, Entity.ATTENDANCE])
        stored = {r.id: r for r in full.records[Entity.MARKS]}
        state = {Entity.MARKS: full.pages[Entity.MARKS][-1].state}
        assert state[Entity.MARKS] == {"recent_windows": 2, "last_full": TODAY.isoformat()}
        october = sorted(
            (
                m
                for m in school.marks
                if m.modified_at and m.modified_at.date() >= dt.date(2025, 10, 1)
            ),
            key=lambda m: m.id,
        )
        changed_mark, deleted_mark = october[0], october[1]
        sim.set_mark(changed_mark.ext_ids["o7"], "2" if str(changed_mark.value) != "2" else "3")
        sim.delete_mark(deleted_mark.ext_ids["o7"])

        again = pull(conn, school, [Entity.MARKS], state)
        # only the recent windows were read: September and October of each class
        assert {p.scope.date_from for p in again.pages[Entity.MARKS]} == {
            dt.date(2025, 9, 1),
            dt.date(2025, 10, 1),
        }
        assert all(p.complete for p in again.pages[Entity.MARKS])
        deleted, changed = diff_windows(again, Entity.MARKS, stored, school)
        assert (deleted, changed) == ({deleted_mark.id}, {changed_mark.id})
    finally:
        conn.close()


def test_a_window_failing_half_way_deletes_nothing(
    base_url: str, sim: O7Sim, school: SchoolData
) -> None:
    conn = make_connector(base_url, sim)
    try:
        full = pull(conn, school, [Entity.LESSONS, Entity.MARKS, Entity.ATTENDANCE])
        stored_marks = {r.id: r for r in full.records[Entity.MARKS]}
        stored_abs = {pair(r): r for r in full.records[Entity.ATTENDANCE]}
        states = {e: full.pages[e][-1].state for e in (Entity.MARKS, Entity.ATTENDANCE)}
        # an absence disappears from the first class's September window (the first one read),
        # and a mark from another class
        first_class = sim.data.classes[0]["class_id"]
        sept = sim.data.lessons_in(first_class, dt.date(2025, 9, 1), dt.date(2025, 9, 30))
        lesson = next(les for les in sept if sim.data.absences.get(les["lesson_guid"]))
        pupil_guid = next(iter(sim.data.absences[lesson["lesson_guid"]]))
        del sim.data.absences[lesson["lesson_guid"]][pupil_guid]
        mark_guid = next(guid for marks in sim.data.marks.values() for guid in marks)
        sim.delete_mark(mark_guid)
        # marks are read whole; absences fail on every attempt at that first window
        sim.fail_next("AttendanceService/GetAbsences", ATTEMPTS, "html500")
        got = Pulled()
        ctx = O7Context(PROFILE, school.school.id, school.year.name, roster_index(school))
        for entity in (Entity.MARKS, Entity.ATTENDANCE):
            try:
                for page in conn.pull(entity, states[entity]):
                    got.pages.setdefault(entity, []).append(page)
                    got.records.setdefault(entity, []).extend(got.map(page, ctx, school))
            except TransientError:
                assert entity is Entity.ATTENDANCE
        assert Entity.ATTENDANCE not in got.pages  # no page, complete or not, for that window
        deleted_abs, _ = diff_windows(got, Entity.ATTENDANCE, stored_abs, school)
        assert deleted_abs == set()
        deleted_marks, _ = diff_windows(got, Entity.MARKS, stored_marks, school)
        assert deleted_marks == {school.lookup("o7", Entity.MARKS, mark_guid)}
        # the next run, with the fault gone, finds the absence's deletion
        retry = pull(conn, school, [Entity.ATTENDANCE], states)
        deleted_abs, _ = diff_windows(retry, Entity.ATTENDANCE, stored_abs, school)
        assert len(deleted_abs) == 1
    finally:
        conn.close()


def test_three_failed_logins_are_three_attempts(base_url: str, sim: O7Sim) -> None:
    conn = make_connector(base_url, sim, password="wrong")
    try:
        for n in range(1, 4):
            with pytest.raises(AuthError) as info:
                list(conn.pull(Entity.CLASSES, None))
            assert "wrong login or password" in str(info.value)
            assert sim.login_attempts == n  # one request per failed login: never a retry loop
        for _ in range(2):
            with pytest.raises(AuthError):
                conn.check()
        assert sim.login_attempts == 5
        good = make_connector(base_url, sim)
        try:
            with pytest.raises(AuthError, match="account locked for 15 minutes"):
                good.check()
        finally:
            good.close()
        assert sim.login_attempts == 6
        assert sum(sim.calls.values()) == 0
    finally:
        conn.close()


@pytest.mark.parametrize("variant", ["401", "302"])
def test_expired_session_relogs_in_once(base_url: str, sim: O7Sim, variant: str) -> None:
    sim.config.expiry = variant  # type: ignore[assignment]
    conn = make_connector(base_url, sim)
    try:
        pages = conn.pull(Entity.LESSONS, {"recent_windows": 2, "last_full": "2025-09-01"})
        first = next(pages)
        sim.expire_sessions()
        rest = list(pages)
        assert first.complete and all(p.complete for p in rest) and len(rest) == 7
        assert sim.login_attempts == 2
    finally:
        conn.close()


def test_pushed_marks_come_back_in_the_window(
    base_url: str, sim: O7Sim, school: SchoolData
) -> None:
    from connectors.base import PushItem

    conn = make_connector(base_url, sim)
    try:
        lesson = next(les for les in school.lessons if les.date == dt.date(2025, 10, 14))
        klass = next(c for c in school.classes if c.id == lesson.class_id)
        pupil = next(p for p in school.pupils if p.class_id == klass.id)
        payload = {
            "pupil_guid": pupil.ext_ids["o7"],
            "lesson_guid": lesson.ext_ids["o7"],
            "mark": "5",
            "mark_type": "Ответ на уроке",
        }
        held = sim.held_marks()
        first = conn.push(Entity.MARKS, [PushItem("gw-1", Entity.MARKS, "upsert", payload)])
        again = conn.push(
            Entity.MARKS,
            [
                PushItem(
                    "gw-1",
                    Entity.MARKS,
                    "upsert",
                    {**payload, "mark": "4"},
                    remote_id=first[0].remote_id,
                )
            ],
        )
        assert first[0].status == "created" and again[0].status == "updated"
        assert first[0].remote_id == again[0].remote_id and sim.held_marks() == held + 1
        window = conn.window_read(
            Entity.MARKS, klass.ext_ids["o7"], next(w for w in conn.windows if w.start.month == 10)
        )
        mine = [m for m in window if m["mark_guid"] == first[0].remote_id]
        assert [m["mark"] for m in mine] == ["4"]
    finally:
        conn.close()


def test_o7_pull_equals_the_es2_pull_of_the_same_school(
    base_url: str, sim: O7Sim, school: SchoolData
) -> None:
    """The same school pulled from both simulators: equal except what О7 cannot carry."""
    pytest.importorskip("connectors.es2")
    es2 = pytest.importorskip("tests.e2e.es2_helpers")
    from fixtures.es2 import SimClock, Simulator

    conn = make_connector(base_url, sim)
    try:
        o7 = pull(conn, school, O7_ENTITIES)
    finally:
        conn.close()
    with serve_in_thread(Simulator(school, clock=SimClock(es2.SIM_NOW)).app) as url:
        es2_conn = es2.connector(url, school, page_size=1000)
        store = es2.Store(school)
        store.pull(es2_conn)
        es2_conn.close()
    assert store.errors == []
    for entity in O7_ENTITIES:
        from_es2 = by_key(entity, list(store.records.get(entity, {}).values()))
        from_o7 = by_key(entity, o7.records.get(entity, []))
        if entity is Entity.PERIODS:
            from_es2 = {k: v for k, v in from_es2.items() if v["kind"] != "year"}
        if entity in (Entity.TEACHERS, Entity.SUBJECTS):
            assert set(from_o7) <= set(from_es2), entity
            from_es2 = {k: from_es2[k] for k in from_o7}
        assert from_o7 == from_es2, entity
