"""The change feed over real HTTP: every change once, in order; tombstones with natural keys; a
record's data with the event that made its current version; long-poll."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from pydantic import TypeAdapter

from api.schemas import FeedEvent, FeedPage
from core.entities import Entity
from mapping.model import Lesson, Mark
from store import Store
from tests.api.conftest import A, B, MakeToken, Schools, follow


def regraded(mark: object) -> Mark:
    """The mark with another value."""
    assert isinstance(mark, Mark)
    return mark.model_copy(update={"value": "2" if str(mark.value) != "2" else "3"})


def _changes(store: Store, school: str | None = None) -> list[tuple[str, str, str, int]]:
    with store.read() as tx:
        out, after = [], 0
        while page := tx.changes.read(after, 5000, school):
            out += [(c.entity, c.record_id, c.op, c.version) for c in page]
            after = page[-1].position
    return out


def test_a_consumer_following_cursors_gets_the_change_log_once_in_order(
    store: Store, client_for: MakeToken
) -> None:
    _, client = client_for("portal", [A, B], ["feed"])
    events, _ = follow(client, limit=700)
    assert [(e["entity"], e["id"], e["op"], e["version"]) for e in events] == _changes(store)
    assert TypeAdapter(list[FeedEvent]).validate_python(events)
    assert len({e["cursor"] for e in events}) == len(events)


def test_pages_of_one_school_and_resuming_from_any_event_cursor(
    store: Store, client_for: MakeToken
) -> None:
    _, client = client_for("portal", [A, B], ["feed"])
    events, _ = follow(client, school=B, limit=333)
    assert [(e["entity"], e["id"], e["op"], e["version"]) for e in events] == _changes(store, B)
    assert {e["school"] for e in events} == {B}
    middle = events[len(events) // 2]
    rest, _ = follow(client, school=B, cursor=middle["cursor"])
    assert rest == events[len(events) // 2 + 1 :]


def test_data_is_the_record_as_it_is_now_and_only_on_its_current_version(
    store: Store, client_for: MakeToken, schools: Schools
) -> None:
    mark = schools.a[Entity.MARKS][0]
    assert isinstance(mark, Mark)
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [regraded(mark)], source="local")
    _, client = client_for("portal", [A], ["feed"])
    events, _ = follow(client)
    mine = [e for e in events if e["id"] == mark.id]
    assert [(e["op"], e["version"]) for e in mine] == [("create", 1), ("update", 2)]
    assert mine[0]["data"] is None  # superseded: the later event carries the record
    data = mine[1]["data"]
    assert isinstance(data, dict)
    assert data["value"] == str(regraded(mark).value) and data["pupil_id"] == mark.pupil_id
    assert data["id"] == mark.id and data["version"] == 2
    created = data["created_at"]
    assert mark.created_at is not None and isinstance(created, str)
    assert dt.datetime.fromisoformat(created) == mark.created_at


def test_tombstones_carry_natural_keys_not_only_ids(
    store: Store, client_for: MakeToken, schools: Schools
) -> None:
    mark = schools.a[Entity.MARKS][5]
    assert isinstance(mark, Mark)
    lesson = next(x for x in schools.a[Entity.LESSONS] if x.id == mark.lesson_id)
    other = schools.a[Entity.LESSONS][-1]
    assert isinstance(lesson, Lesson) and isinstance(other, Lesson)
    _, client = client_for("portal", [A], ["feed"])
    _, cursor = follow(client)
    with store.begin() as tx:
        tx.records.delete(Entity.MARKS, [mark.id], source="es2")
        tx.records.delete(Entity.LESSONS, [other.id], source="es2")
    events, _ = follow(client, cursor=cursor)
    by_entity = {e["entity"]: e for e in events}
    gone = by_entity["marks"]
    assert gone["op"] == "delete" and gone["data"] is None
    assert gone["key"] == {
        "school": A,
        "pupil_id": mark.pupil_id,
        "lesson_id": mark.lesson_id,
        "class_id": lesson.class_id,
        "subgroup_id": lesson.subgroup_id,
        "subject_id": lesson.subject_id,
        "date": lesson.date.isoformat(),
    }
    assert by_entity["lessons"]["key"] == {
        "school": A,
        "class_id": other.class_id,
        "subgroup_id": other.subgroup_id,
        "subject_id": other.subject_id,
        "date": other.date.isoformat(),
        "number": other.number,
    }


def test_long_poll_answers_when_a_change_commits(
    store: Store, client_for: MakeToken, schools: Schools
) -> None:
    _, client = client_for("portal", [A], ["feed"])
    _, cursor = follow(client)
    mark = schools.a[Entity.MARKS][1]

    def write_later() -> None:
        time.sleep(0.4)
        with store.begin() as tx:
            tx.records.upsert(Entity.MARKS, [regraded(mark)], source="o7")

    writer = threading.Thread(target=write_later)
    t0 = time.monotonic()
    writer.start()
    r = client.get("/feed/v1/changes", params={"cursor": cursor, "wait": 10})
    elapsed = time.monotonic() - t0
    writer.join()
    page = FeedPage.model_validate(r.json())
    assert [e.id for e in page.events] == [mark.id]
    assert 0.3 < elapsed < 5


def test_long_poll_with_nothing_new_waits_then_keeps_the_cursor(client_for: MakeToken) -> None:
    _, client = client_for("portal", [A], ["feed"])
    _, cursor = follow(client)
    t0 = time.monotonic()
    r = client.get("/feed/v1/changes", params={"cursor": cursor, "wait": 0.6})
    elapsed = time.monotonic() - t0
    assert r.json() == {"events": [], "cursor": cursor, "more": False}
    assert 0.55 < elapsed < 5


def test_changes_of_other_schools_move_a_waiting_cursor_without_events(
    store: Store, client_for: MakeToken, schools: Schools
) -> None:
    _, client = client_for("portal", [A], ["feed"])
    _, cursor = follow(client)
    with store.begin() as tx:
        tx.records.delete(Entity.MARKS, [schools.b[Entity.MARKS][0].id], source="es2")
    r = client.get("/feed/v1/changes", params={"cursor": cursor, "school": A})
    page = r.json()
    assert page["events"] == [] and page["cursor"] != cursor
    assert follow(client, cursor=page["cursor"])[0] == []


@pytest.mark.parametrize("cursor", ["nonsense", "f1.zz", "p1.12", "f1." + "f" * 40])
def test_a_cursor_the_feed_did_not_give_is_refused(client_for: MakeToken, cursor: str) -> None:
    _, client = client_for("portal", [A], ["feed"])
    r = client.get("/feed/v1/changes", params={"cursor": cursor})
    assert r.status_code == 400 and r.json()["error"] == "bad_cursor"
