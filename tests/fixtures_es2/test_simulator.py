"""The ES2 simulator against its contract, in-process (Starlette TestClient)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from fixtures.es2 import Faults, SimClock, Simulator, build_app
from fixtures.generator import generate_school
from fixtures.school import SchoolData

NOW = dt.datetime(2025, 10, 27, 12, 0, tzinfo=dt.UTC)
API = "/api/v2"
S = f"{API}/schools/42"


@pytest.fixture(scope="module")
def school() -> SchoolData:
    return generate_school(2, "tiny")


@pytest.fixture
def sim(school: SchoolData) -> Simulator:
    return Simulator(school, clock=SimClock(NOW))


@pytest.fixture
def client(sim: Simulator) -> Iterator[TestClient]:
    with TestClient(sim.app, raise_server_exceptions=False) as c:
        yield c


def token(client: TestClient) -> dict[str, str]:
    r = client.post(
        f"{API}/auth/token",
        json={"client_id": "schoolgate", "client_secret": "secret", "school_id": 42},
    )
    assert r.status_code == 200
    return {"Authorization": f"Bearer {r.json()['data']['access_token']}"}


def read_all(
    client: TestClient, path: str, auth: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        q = {**params, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"{S}/{path}", params=q, headers=auth).json()
        assert body["success"] is True
        out += body["data"]
        cursor = body["next_cursor"]
        if cursor is None:
            return out
    raise AssertionError("unbounded read")


def test_auth_refuses_bad_credentials_and_expired_tokens(
    client: TestClient, sim: Simulator
) -> None:
    r = client.post(
        f"{API}/auth/token",
        json={"client_id": "schoolgate", "client_secret": "nope", "school_id": 42},
    )
    assert r.status_code == 401 and r.json()["error_type"] == "auth"
    auth = token(client)
    assert client.get(f"{S}/subjects", headers=auth).status_code == 200
    sim.clock.advance(seconds=3601)
    r = client.get(f"{S}/subjects", headers=auth)
    assert r.status_code == 401 and r.json() == {
        "success": False,
        "data": None,
        "error_type": "auth",
        "error": "token expired",
    }
    auth = token(client)
    sim.expire_tokens()
    assert client.get(f"{S}/subjects", headers=auth).status_code == 401


def test_pages_follow_cursor_with_a_revision(client: TestClient, school: SchoolData) -> None:
    auth = token(client)
    first = client.get(f"{S}/marks", params={"limit": 100}, headers=auth).json()
    assert len(first["data"]) == 100 and first["next_cursor"] and isinstance(first["revision"], int)
    marks = read_all(client, "marks", auth, limit=1000)
    assert len(marks) == len({m["id"] for m in marks}) == len(school.marks)
    assert client.get(f"{S}/marks", params={"limit": 1001}, headers=auth).status_code == 400


def test_lesson_windows_are_limited_to_92_days(client: TestClient, school: SchoolData) -> None:
    auth = token(client)
    r = client.get(
        f"{S}/lessons", params={"start": "2025-09-01", "end": "2025-12-02"}, headers=auth
    )
    assert r.status_code == 400 and r.json()["error_type"] == "validation"
    lessons = read_all(client, "lessons", auth, start="2025-09-01", end="2025-12-01")
    assert all("2025-09-01" <= le["date"] <= "2025-12-01" for le in lessons)
    assert len(lessons) == sum(1 for le in school.lessons if le.date <= dt.date(2025, 12, 1))


def test_changed_since_tombstones_and_their_30_day_expiry(
    client: TestClient, sim: Simulator
) -> None:
    auth = token(client)
    since = (NOW + dt.timedelta(minutes=1)).isoformat()
    sim.clock.advance(minutes=5)
    mark_id = next(iter(sim.state.col("marks").items))
    assert sim.state.delete("marks", mark_id)
    changed = read_all(client, "marks", auth, changed_since=since)
    assert [(m["id"], m["deleted"]) for m in changed] == [(mark_id, True)]
    assert all(m["id"] != mark_id for m in read_all(client, "marks", auth, limit=1000))
    sim.clock.advance(days=31)
    auth = token(client)
    r = client.get(f"{S}/marks", params={"changed_since": since}, headers=auth)
    assert r.status_code == 410 and r.json()["error_type"] == "cursor_expired"
    assert sim.state.count("marks", deleted=True) == 0  # tombstones older than 30 days are gone


def test_repeated_idempotency_key_returns_first_answer(
    client: TestClient, sim: Simulator, school: SchoolData
) -> None:
    auth = token(client)
    lesson = sim.state.col("lessons").items[int(school.lessons[-1].ext_ids["es2"])]
    body = {"items": [{"client_key": "c1", "id": lesson["id"], "topic": "Дроби"}]}
    hdr = {**auth, "Idempotency-Key": "k1"}
    first = client.post(f"{S}/lessons:batch", json=body, headers=hdr).json()
    assert first["data"]["results"][0]["status"] == "updated"
    body2 = {"items": [{"client_key": "c2", "id": lesson["id"], "topic": "Другое"}]}
    assert client.post(f"{S}/lessons:batch", json=body2, headers=hdr).json() == first
    assert sim.state.col("lessons").items[lesson["id"]]["topic"] == "Дроби"
    r = client.post(f"{S}/lessons:batch", json=body, headers=auth)
    assert r.status_code == 400  # no Idempotency-Key


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("rate_limit", lambda r: r.status_code == 429 and r.headers["Retry-After"] == "2"),
        ("server_error", lambda r: r.status_code in (502, 503, 504)),
        (
            "soft_failure",
            lambda r: (
                r.status_code == 200
                and r.json()["success"] is False
                and r.json()["error_type"] == "busy"
            ),
        ),
        # the connection drops after a partial body (a real client sees RemoteProtocolError)
        ("reset", lambda r: r.content == b'{"success":tr'),
    ],
)
def test_request_faults(school: SchoolData, kind: str, check: Any) -> None:
    faults = Faults(retry_after=2)
    sim = Simulator(school, clock=SimClock(NOW), faults=faults)
    with TestClient(sim.app, raise_server_exceptions=False) as client:
        auth = token(client)
        faults.set(**{kind: 1.0})
        assert check(client.get(f"{S}/subjects", headers=auth))
    assert faults.fired == {kind: 1}


def test_token_expiry_fault_spares_a_fresh_token(school: SchoolData) -> None:
    faults = Faults(token_expiry=1.0)
    sim = Simulator(school, clock=SimClock(NOW), faults=faults)
    with TestClient(sim.app) as client:
        auth = token(client)
        assert client.get(f"{S}/subjects", headers=auth).status_code == 200
        assert client.get(f"{S}/subjects", headers=auth).status_code == 401


def test_revision_change_and_repeated_item_faults(school: SchoolData) -> None:
    faults = Faults(revision_change=1.0, repeat_item=1.0, seed=3)
    sim = Simulator(school, clock=SimClock(NOW), faults=faults)
    with TestClient(sim.app) as client:
        auth = token(client)
        revs, ids, cursor = [], [], None
        for _ in range(6):
            q = {"limit": 50, **({"cursor": cursor} if cursor else {})}
            body = client.get(f"{S}/marks", params=q, headers=auth).json()
            revs.append(body["revision"])
            ids.append([m["id"] for m in body["data"]])
            cursor = body["next_cursor"]
    assert len(set(revs)) == 2  # moved once during the read
    assert ids[1][0] == ids[0][-1]  # the previous page's last item again


def test_build_app_serves_a_generated_school() -> None:
    app = build_app(seed=1, size="tiny", fault_rate=0.0)
    with TestClient(app) as client:
        auth = token(client)
        assert client.get(f"{S}/groups", headers=auth).json()["data"]
