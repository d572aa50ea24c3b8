"""Scopes: a token sees its schools only; birth dates and СНИЛС only with ``personal``; a diary
token one pupil; a revoked token is refused at once; the rate limit answers 429 with
Retry-After; reads of personal data are logged by token and record id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
import pytest

from core.entities import Entity
from mapping.model import Lesson, Pupil, Subgroup
from store import Store
from tests.api.conftest import A, B, MakeToken, Schools, follow

SNAPSHOTS = ("classes", "pupils", "lessons", "marks", "final_marks", "attendance", "subjects")


def _everything(client: httpx.Client, school: str) -> list[httpx.Response]:
    out = [client.get(f"/snapshot/v1/{school}/{kind}") for kind in SNAPSHOTS]
    out.append(client.get("/feed/v1/changes", params={"school": school}))
    return out


def _pupils(schools: Schools, school: str = A) -> list[Pupil]:
    recs = schools.a if school == A else schools.b
    return [p for p in recs[Entity.PUPILS] if isinstance(p, Pupil)]


def test_a_token_for_school_a_gets_nothing_of_school_b(
    client_for: MakeToken, schools: Schools
) -> None:
    _, client = client_for("a-only", [A], ["feed", "snapshot", "journal", "personal"])
    for r in _everything(client, B):
        assert r.status_code == 403, r.request.url
        assert r.json()["error"] == "forbidden"
    events, _ = follow(client)  # no school named: the token's own
    assert events and {e["school"] for e in events} == {A}
    b_ids = {r.id for recs in schools.b.values() for r in recs}
    assert not b_ids & {str(e["id"]) for e in events}
    lesson = schools.b[Entity.LESSONS][0]
    write = client.post(
        f"/journal/v1/{B}/lessons",
        json={"items": [{"id": lesson.id, "topic": "Тема"}]},
        headers={"Idempotency-Key": "k-b"},
    )
    assert write.status_code == 403
    # and a school-A write naming a school-B record is refused as unknown
    mine = client.post(
        f"/journal/v1/{A}/lessons",
        json={"items": [{"id": lesson.id, "topic": "Тема"}]},
        headers={"Idempotency-Key": "k-a"},
    )
    assert mine.status_code == 422 and mine.json()["items"][0]["rule"] == "unknown_id"


def _personal_values(pupils: Iterable[Pupil]) -> set[str]:
    out: set[str] = set()
    for p in pupils:
        out.add(p.birth_date.isoformat())
        if p.snils:
            out.add(p.snils)
    return out


def test_without_the_personal_scope_no_birth_date_or_snils_leaves_the_server(
    client_for: MakeToken, schools: Schools
) -> None:
    pupils = _pupils(schools)
    assert any(p.snils for p in pupils)
    secrets = _personal_values(pupils)
    _, plain = client_for("plain", [A], ["feed", "snapshot"])
    bodies = [r.text for r in _everything(plain, A)]
    bodies += [plain.get(f"/snapshot/v1/{A}/pupils", params={"limit": 1000}).text]
    events, _ = follow(plain)
    bodies += [str(e) for e in events if e["entity"] == "pupils"]
    leaked = {s for s in secrets for body in bodies if s in body}
    assert leaked == set()
    assert all("birth_date" not in body and "snils" not in body for body in bodies)

    _, allowed = client_for("personal", [A], ["feed", "snapshot", "personal"])
    listed = allowed.get(f"/snapshot/v1/{A}/pupils", params={"limit": 1000}).json()["items"]
    by_id = {p.id: p for p in pupils}
    assert len(listed) == len(pupils)
    for item in listed:
        assert item["birth_date"] == by_id[item["id"]].birth_date.isoformat()
        assert item.get("snils") == by_id[item["id"]].snils
    feed_pupils = [e for e in follow(allowed)[0] if e["entity"] == "pupils"]
    assert all(isinstance(e["data"], dict) and "birth_date" in e["data"] for e in feed_pupils)


def _diary_expectation(schools: Schools, pupil: Pupil) -> dict[str, set[str]]:
    groups = {
        g.id
        for g in schools.a[Entity.SUBGROUPS]
        if isinstance(g, Subgroup) and pupil.id in g.member_ids and g.class_id == pupil.class_id
    }
    lessons = {
        x.id
        for x in schools.a[Entity.LESSONS]
        if isinstance(x, Lesson)
        and x.class_id == pupil.class_id
        and (x.subgroup_id is None or x.subgroup_id in groups)
    }

    def own(entity: Entity) -> set[str]:
        return {r.id for r in schools.a[entity] if getattr(r, "pupil_id", None) == pupil.id}

    return {
        "marks": own(Entity.MARKS),
        "attendance": own(Entity.ATTENDANCE),
        "final_marks": own(Entity.FINAL_MARKS),
        "lessons": lessons,
        "pupils": {pupil.id},
        "subjects": {r.id for r in schools.a[Entity.SUBJECTS]},
        "periods": {r.id for r in schools.a[Entity.PERIODS]},
        "schools": {A},
        "years": {r.id for r in schools.a[Entity.YEARS]},
    }


def test_a_pupil_token_sees_one_pupil(client_for: MakeToken, schools: Schools) -> None:
    groups = [g for g in schools.a[Entity.SUBGROUPS] if isinstance(g, Subgroup)]
    pupil = next(p for p in _pupils(schools) if any(p.id in g.member_ids for g in groups))
    expected = _diary_expectation(schools, pupil)
    assert len(expected["marks"]) > 5 and expected["lessons"]
    _, diary = client_for("diary", [A], ["feed", "snapshot"], pupil_id=pupil.id)

    events, _ = follow(diary, limit=50)
    seen: dict[str, set[str]] = {}
    for e in events:
        seen.setdefault(str(e["entity"]), set()).add(str(e["id"]))
    assert seen == {k: v for k, v in expected.items() if v}

    for kind in ("marks", "attendance", "final_marks", "lessons", "pupils"):
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {"limit": 200}
        while True:
            body = diary.get(f"/snapshot/v1/{A}/{kind}", params=query).json()
            items += body["items"]
            if body["next"] is None:
                break
            query["cursor"] = body["next"]
        assert {i["id"] for i in items} == expected[kind], kind
    other = next(p for p in _pupils(schools) if p.id != pupil.id)
    asked = diary.get(f"/snapshot/v1/{A}/marks", params={"pupil": other.id}).json()
    assert asked["items"] == []
    assert diary.get(f"/snapshot/v1/{A}/classes").status_code == 403


def test_a_pupil_token_sees_the_pupils_new_mark_and_not_a_classmates(
    store: Store, client_for: MakeToken, schools: Schools
) -> None:
    marked = {getattr(m, "pupil_id", "") for m in schools.a[Entity.MARKS]}
    pupil = next(p for p in _pupils(schools) if p.id in marked)
    mate = next(
        p for p in _pupils(schools) if p.class_id == pupil.class_id and p.id in marked - {pupil.id}
    )
    _, diary = client_for("diary", [A], ["feed"], pupil_id=pupil.id)
    _, cursor = follow(diary)
    mine = next(m for m in schools.a[Entity.MARKS] if getattr(m, "pupil_id", "") == pupil.id)
    theirs = next(m for m in schools.a[Entity.MARKS] if getattr(m, "pupil_id", "") == mate.id)
    with store.begin() as tx:
        tx.records.delete(Entity.MARKS, [mine.id, theirs.id], source="es2")
    events, _ = follow(diary, cursor=cursor)
    assert [(e["id"], e["op"]) for e in events] == [(mine.id, "delete")]


def test_a_revoked_token_is_refused_at_once(store: Store, client_for: MakeToken) -> None:
    token, client = client_for("soon-gone", [A], ["feed"])
    assert client.get("/feed/v1/changes", params={"limit": 1}).status_code == 200
    with store.begin() as tx:
        assert tx.tokens.revoke(token.name)
    r = client.get("/feed/v1/changes", params={"limit": 1})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sgt_not-a-real-token"}, {"Authorization": "Basic eDp5"}],
)
def test_no_valid_token_no_answer(server: str, headers: dict[str, str]) -> None:
    r = httpx.get(f"{server}/feed/v1/changes", headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_a_missing_scope_is_refused(client_for: MakeToken) -> None:
    _, client = client_for("feed-only", [A], ["feed"])
    assert client.get(f"/snapshot/v1/{A}/marks").status_code == 403
    write = client.post(
        f"/journal/v1/{A}/marks", json={"items": [{}]}, headers={"Idempotency-Key": "x"}
    )
    assert write.status_code == 403


def test_the_rate_limit_answers_429_with_retry_after(client_for: MakeToken) -> None:
    _, client = client_for("slow", [A], ["feed"], rate=0.5, burst=3)
    codes = [client.get("/feed/v1/changes", params={"limit": 1}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    r = client.get("/feed/v1/changes", params={"limit": 1})
    assert r.status_code == 429 and r.json()["error"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 2
    _, other = client_for("other", [A], ["feed"], rate=0.5, burst=3)
    assert other.get("/feed/v1/changes", params={"limit": 1}).status_code == 200


def test_reads_of_personal_data_are_logged_by_token_and_record_id(
    store: Store, client_for: MakeToken, schools: Schools
) -> None:
    token, client = client_for("hr", [A], ["snapshot", "personal"])
    listed = client.get(f"/snapshot/v1/{A}/pupils", params={"limit": 7}).json()["items"]
    client.get(f"/snapshot/v1/{A}/marks", params={"limit": 7})
    plain, other = client_for("names-only", [A], ["feed"])
    events, _ = follow(other)
    with store.read() as tx:
        logged = tx.access_log.list(token.id)
        names_only = tx.access_log.list(plain.id)
    assert [(a.entity, a.record_id, a.fields) for a in logged] == [
        ("pupils", i["id"], "names+personal") for i in listed
    ]
    shown = {
        (str(e["entity"]), str(e["id"]))
        for e in events
        if e["entity"] in ("pupils", "teachers") and e["data"] is not None
    }
    assert {(a.entity, a.record_id) for a in names_only} == shown
    assert {a.fields for a in names_only} == {"names"}
    # ids only: nothing of a person's content is in the log
    values = {p.last_name for p in _pupils(schools)} | _personal_values(_pupils(schools))
    with store.read() as tx:
        dump = str(tx.conn.exec_driver_sql("SELECT * FROM api_access_log").all())
    assert not {v for v in values if v in dump}
