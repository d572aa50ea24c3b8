"""Access: every role × every route and method of the feed/write API, generated from the
application's routes (a route without a rule fails); tokens kept only as hashes; every change
through the API audited, every decision recorded, every read of a person logged."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select

from api import create_app, issue
from core.entities import Entity
from fixtures.serve import serve_in_thread
from mapping.model import Lesson, Mark, Pupil
from store import Store
from tests.api.conftest import A, B, api_settings
from tests.reliability.access_matrix import (
    SURFACES,
    Cell,
    Role,
    Surface,
    cells,
    missing_rules,
    routes_of,
    stale_rules,
)

API = SURFACES["api"]
_keys = itertools.count()


@pytest.fixture
def served(api_store: Store) -> Iterator[tuple[Any, str]]:
    app = create_app(api_store, api_settings(poll_interval=0.05))
    with serve_in_thread(app) as url:
        yield app, url


def _pupil(store: Store) -> str:
    with store.read() as tx:
        return next(p.id for p in tx.records.iter(Entity.PUPILS, A) if isinstance(p, Pupil))


def _tokens(store: Store, surface: Surface) -> dict[str, str]:
    """A secret per role (``""`` for none)."""
    out: dict[str, str] = {}
    pupil = _pupil(store)
    for role in surface.roles:
        if role.scopes is None:
            out[role.name] = ""
            continue
        if role.malformed:
            out[role.name] = "not-a-token"
            continue
        token, secret = issue(
            store,
            name=f"role-{role.name}",
            schools=[A],
            scopes=list(role.scopes),
            pupil_id=pupil if role.pupil else None,
            rate=10_000,
            burst=10_000,
        )
        if role.revoked:
            with store.begin() as tx:
                tx.tokens.revoke(token.name)
        out[role.name] = secret
    return out


def _request(client: httpx.Client, cell: Cell, secret: str) -> httpx.Response:
    school = A if cell.role.own_school else B
    path = cell.path.format(school=school, kind="marks", record_id="no-such-record")
    headers = {"Idempotency-Key": f"k{next(_keys)}"}
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    body = {"items": []} if cell.method == "POST" else None
    return client.request(cell.method, path, headers=headers, json=body)


def test_every_route_of_the_api_has_a_rule(served: tuple[Any, str]) -> None:
    app, _ = served
    assert missing_rules(app, API) == set(), "a route without an access rule"
    assert stale_rules(app, API) == set(), "a rule for a route the API no longer serves"


def test_a_new_route_without_a_rule_is_caught(served: tuple[Any, str]) -> None:
    app, _ = served

    @app.get("/feed/v1/secret-extra")
    def extra() -> dict[str, str]:  # pragma: no cover - never called
        return {}

    assert ("GET", "/feed/v1/secret-extra") in routes_of(app)
    assert missing_rules(app, API) == {("GET", "/feed/v1/secret-extra")}


def test_the_permission_matrix_of_the_api(served: tuple[Any, str], api_store: Store) -> None:
    _, url = served
    secrets = _tokens(api_store, API)
    matrix = cells(API)
    assert len(matrix) >= 150  # 17 routes × 10 roles, less the school-free duplicates
    wrong: list[str] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for cell in matrix:
            r = _request(client, cell, secrets[cell.role.name])
            ok = {
                "public": r.status_code == 200,
                "unauth": r.status_code == 401,
                "forbidden": r.status_code == 403,
                "allowed": r.status_code not in (401, 403) and r.status_code < 500,
            }[cell.expect]
            if not ok:
                wrong.append(f"{cell.role.name} {cell.method} {cell.path}: {r.status_code}")
            if r.status_code in (401, 403):
                assert r.json()["error"] in ("unauthorized", "forbidden"), r.text
    assert wrong == [], "\n".join(wrong)


def test_a_pupil_token_reads_only_that_pupils_marks(
    served: tuple[Any, str], api_store: Store
) -> None:
    _, url = served
    pupil = _pupil(api_store)
    _, secret = issue(api_store, name="diary", schools=[A], scopes=["snapshot"], pupil_id=pupil)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"}) as client:
        r = client.get(f"/snapshot/v1/{A}/marks", params={"limit": 1000})
    assert r.status_code == 200
    assert {m["pupil_id"] for m in r.json()["items"]} <= {pupil}


def _text_columns(store: Store) -> Iterator[tuple[str, str, str]]:
    meta = MetaData()
    with store.read() as tx:
        meta.reflect(bind=tx.conn)
        for table in meta.sorted_tables:
            for row in tx.conn.execute(select(table)):
                for name, value in row._mapping.items():
                    if value is not None:
                        yield table.name, name, str(value)


def test_tokens_are_stored_only_as_hashes(api_store: Store) -> None:
    secrets = [
        issue(api_store, name=f"t{n}", schools=[A], scopes=["feed", "personal"])[1]
        for n in range(3)
    ]
    found = [(t, c) for t, c, v in _text_columns(api_store) for s in secrets if s in v]
    assert found == []
    with api_store.read() as tx:
        for secret in secrets:
            assert tx.tokens.by_hash(hashlib.sha256(secret.encode()).hexdigest()) is not None


def test_every_change_through_the_api_is_audited_and_every_read_of_a_person_logged(
    served: tuple[Any, str], api_store: Store
) -> None:
    _, url = served
    token, secret = issue(api_store, name="teacher", schools=[A], scopes=["journal", "snapshot"])
    with api_store.read() as tx:
        lessons = {r.id: r for r in tx.records.iter(Entity.LESSONS, A) if isinstance(r, Lesson)}
        classes = {r.id: r for r in tx.records.iter(Entity.CLASSES, A)}
        marks = [
            m
            for m in tx.records.iter(Entity.MARKS, A)
            if isinstance(m, Mark) and classes[lessons[m.lesson_id].class_id].parallel > 1  # type: ignore[attr-defined]
        ]
    mark = marks[-1]
    other = "2" if str(mark.value) != "2" else "3"
    auth = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=url, headers=auth, timeout=30) as client:
        changed = client.post(
            f"/journal/v1/{A}/marks",
            json={"items": [{"id": mark.id, "value": other}]},
            headers={"Idempotency-Key": "audit-1"},
        )
        assert changed.status_code == 200, changed.text
        gone = client.delete(
            f"/journal/v1/{A}/marks/{marks[-2].id}", headers={"Idempotency-Key": "audit-2"}
        )
        assert gone.status_code == 200, gone.text
        read = client.get(f"/snapshot/v1/{A}/pupils", params={"limit": 5})
        assert read.status_code == 200
    with api_store.read() as tx:
        updated = tx.history.of(Entity.MARKS, mark.id)
        deleted = tx.history.of(Entity.MARKS, marks[-2].id)
        findings = tx.conflicts.find(status=None)
        logged = tx.access_log.list(token_id=token.id)
        changes = tx.changes.read(0, limit=10**6)
    assert [(a["op"], a["actor"]) for a in updated] == [("update", "api:teacher")]
    assert updated[0]["old"]["value"] == str(mark.value) and updated[0]["new"]["value"] == other
    assert [(a["op"], a["actor"]) for a in deleted] == [("delete", "api:teacher")]
    mine = [c for c in changes if c.record_id in (mark.id, marks[-2].id)]
    assert {c.op for c in mine} >= {"update", "delete"}
    # a corrected and a deleted mark are decisions the deputy director sees
    noted = {f.record_id for f in findings}
    assert {mark.id, marks[-2].id} <= noted, noted
    pupils = {r["id"] for r in read.json()["items"]}
    assert pupils and {a.record_id for a in logged} >= pupils


def test_roles_cover_each_scope_alone(served: tuple[Any, str]) -> None:
    names = {r.name for r in API.roles}
    assert {f"only-{s}" for s in ("feed", "snapshot", "personal", "journal")} <= names
    assert isinstance(API.roles[0], Role)
