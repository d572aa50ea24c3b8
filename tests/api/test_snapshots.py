"""Snapshots over real HTTP: complete paging, filters, ETag, and a feed cursor that a new consumer
follows from without a gap."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter

from api.schemas import AttendanceOut, LessonOut, MarkOut, PupilOut, SnapshotPage
from core.entities import Entity
from mapping.model import Attendance, Lesson, Mark, Pupil, Record
from store import Store
from tests.api.conftest import A, MakeToken, Schools, follow


def pages(client: httpx.Client, kind: str, **params: Any) -> tuple[list[dict[str, Any]], str]:
    """Every item of a snapshot, page by page; and the first page's feed cursor."""
    items: list[dict[str, Any]] = []
    query = {k: v for k, v in params.items() if v is not None}
    first_cursor = None
    for _ in range(10_000):
        r = client.get(f"/snapshot/v1/{A}/{kind}", params=query)
        assert r.status_code == 200, r.text
        body = r.json()
        first_cursor = first_cursor or body["feed_cursor"]
        items += body["items"]
        if body["next"] is None:
            return items, first_cursor
        query["cursor"] = body["next"]
    raise AssertionError("the snapshot never ended")


def _lessons(schools: Schools) -> dict[str, Lesson]:
    return {r.id: r for r in schools.a[Entity.LESSONS] if isinstance(r, Lesson)}


def test_paging_lists_every_live_record_once(
    store: Store, client_for: MakeToken, schools: Schools
) -> None:
    _, client = client_for("portal", [A], ["snapshot"])
    marks, _ = pages(client, "marks", limit=97)
    assert TypeAdapter(list[MarkOut]).validate_python(marks)
    assert sorted(m["id"] for m in marks) == sorted(r.id for r in schools.a[Entity.MARKS])
    lessons, _ = pages(client, "lessons", limit=1000)
    assert TypeAdapter(list[LessonOut]).validate_python(lessons)
    by_id = _lessons(schools)
    assert len(lessons) == len(by_id)
    for item in lessons[:50]:
        lesson = by_id[item["id"]]
        assert (item["topic"], item["homework"], item["date"]) == (
            lesson.topic,
            lesson.homework,
            lesson.date.isoformat(),
        )


def test_filters_by_class_pupil_and_dates(client_for: MakeToken, schools: Schools) -> None:
    _, client = client_for("portal", [A], ["snapshot"])
    lessons = _lessons(schools)
    pupil = next(p for p in schools.a[Entity.PUPILS] if isinstance(p, Pupil) and p.class_id)
    assert isinstance(pupil, Pupil) and pupil.class_id is not None
    start, end = dt.date(2025, 9, 15), dt.date(2025, 10, 10)

    def on(rec: Record) -> bool:
        assert isinstance(rec, Mark | Attendance)
        return start <= lessons[rec.lesson_id].date <= end

    marks, _ = pages(client, "marks", pupil=pupil.id, date_from=start, date_to=end)
    expected = [r.id for r in schools.a[Entity.MARKS] if getattr(r, "pupil_id", "") == pupil.id]
    assert sorted(m["id"] for m in marks) == sorted(
        i for i in expected if on(next(r for r in schools.a[Entity.MARKS] if r.id == i))
    )
    absent, _ = pages(client, "attendance", class_id=None, **{"class": pupil.class_id})
    assert TypeAdapter(list[AttendanceOut]).validate_python(absent)
    assert sorted(a["id"] for a in absent) == sorted(
        r.id
        for r in schools.a[Entity.ATTENDANCE]
        if isinstance(r, Attendance) and lessons[r.lesson_id].class_id == pupil.class_id
    )
    pupils, _ = pages(client, "pupils", **{"class": pupil.class_id})
    assert TypeAdapter(list[PupilOut]).validate_python(pupils)
    assert sorted(p["id"] for p in pupils) == sorted(
        r.id for r in schools.a[Entity.PUPILS] if getattr(r, "class_id", None) == pupil.class_id
    )
    dated, _ = pages(client, "lessons", date_from=start, date_to=start)
    assert sorted(x["id"] for x in dated) == sorted(
        i for i, x in lessons.items() if x.date == start
    )


def test_etag_answers_not_modified_until_the_page_changes(
    store: Store, client_for: MakeToken, schools: Schools
) -> None:
    _, client = client_for("portal", [A], ["snapshot"])
    first = client.get(f"/snapshot/v1/{A}/marks", params={"limit": 20})
    etag = first.headers["etag"]
    again = client.get(
        f"/snapshot/v1/{A}/marks", params={"limit": 20}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    listed = first.json()["items"][3]
    mark = next(r for r in schools.a[Entity.MARKS] if r.id == listed["id"])
    assert isinstance(mark, Mark)
    changed = mark.model_copy(update={"weight": mark.weight % 10 + 1})
    with store.begin() as tx:
        tx.records.upsert(Entity.MARKS, [changed], source="local")
    after = client.get(
        f"/snapshot/v1/{A}/marks", params={"limit": 20}, headers={"If-None-Match": etag}
    )
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert after.json()["items"][3]["weight"] == changed.weight


def test_snapshot_then_feed_from_its_cursor_misses_nothing(
    store: Store, client_for: MakeToken, schools: Schools
) -> None:
    """A change made between two snapshot pages is in the feed after the first page's cursor;
    applying the feed by version over the snapshot gives the store's state."""
    _, client = client_for("portal", [A], ["snapshot", "feed"])
    r = client.get(f"/snapshot/v1/{A}/marks", params={"limit": 1000})
    body = r.json()
    state = {m["id"]: m for m in body["items"]}
    cursor = body["feed_cursor"]
    ids = sorted(r.id for r in schools.a[Entity.MARKS])
    early, late = ids[0], ids[-1]  # one on a page read, one on a page still to come
    with store.begin() as tx:
        recs = tx.records.get(Entity.MARKS, [early, late])
        tx.records.upsert(
            Entity.MARKS,
            [m.model_copy(update={"weight": m.weight % 10 + 1}) for m in recs.values()],  # type: ignore[attr-defined]
            source="local",
        )
        tx.records.delete(Entity.MARKS, [ids[1]], source="local")
    while body["next"] is not None:
        body = client.get(
            f"/snapshot/v1/{A}/marks", params={"limit": 1000, "cursor": body["next"]}
        ).json()
        state.update({m["id"]: m for m in body["items"]})
    events, _ = follow(client, cursor=cursor, school=A)
    for e in events:
        if e["entity"] != "marks":
            continue
        if e["op"] == "delete":
            state.pop(str(e["id"]), None)
        elif e["data"] is not None and e["version"] >= state.get(str(e["id"]), {}).get(
            "version", 0
        ):
            state[str(e["id"])] = e["data"]
    with store.read() as tx:
        live = {m.id: m for m in tx.records.iter(Entity.MARKS, A) if isinstance(m, Mark)}
    assert state.keys() == live.keys()
    assert {i: s["weight"] for i, s in state.items()} == {i: m.weight for i, m in live.items()}


@pytest.mark.parametrize("cursor", ["bm9wZQ", "cDE6AAA", "%%%"])
def test_a_page_cursor_the_snapshot_did_not_give_is_refused(
    client_for: MakeToken, cursor: str
) -> None:
    _, client = client_for("portal", [A], ["snapshot"])
    r = client.get(f"/snapshot/v1/{A}/marks", params={"cursor": cursor})
    assert r.status_code == 400 and r.json()["error"] == "bad_cursor"


def test_snapshot_page_shape(client_for: MakeToken) -> None:
    _, client = client_for("portal", [A], ["snapshot"])
    body = client.get(f"/snapshot/v1/{A}/pupils", params={"limit": 5}).json()
    page = SnapshotPage[PupilOut].model_validate(body)
    assert len(page.items) == 5 and page.next is not None
