"""The console over HTTP (Starlette's test client, the store a filled SQLite file): sessions,
CSRF, the lock-out, roles and schools, each decision and its audit entry, the XLSX download."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bench.console_world import PASSWORDS, World
from console import ConsoleSettings, create_console, passwords
from core.entities import Entity
from store import Store


@pytest.fixture
def store(tmp_path: Path, world_template: tuple[Path, World]) -> Iterator[Store]:
    path = tmp_path / "store.db"
    shutil.copyfile(world_template[0], path)
    s = Store.open(f"sqlite:///{path}")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def world(world_template: tuple[Path, World]) -> World:
    return world_template[1]


def client(store: Store, **settings: object) -> TestClient:
    app = create_console(store, ConsoleSettings(cookie_secure=False, **settings))  # type: ignore[arg-type]
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def sign_in(c: TestClient, login: str, password: str | None = None, next_: str = "") -> object:
    token = csrf(c.get("/login").text)
    return c.post(
        "/login",
        data={
            "csrf": token,
            "login": login,
            "password": password or PASSWORDS[login],
            "next": next_,
        },
    )


def audit(store: Store) -> list[object]:
    with store.read() as tx:
        return list(tx.queries.console_audit().items)


def test_passwords_are_argon2_and_checked() -> None:
    h = passwords.hash_password("a long secret")
    assert h.startswith("$argon2id$")
    assert passwords.verify(h, "a long secret")
    assert not passwords.verify(h, "a long secreT")
    assert not passwords.verify(None, "a long secret")
    with pytest.raises(ValueError):
        passwords.hash_password("short")


def test_pages_need_a_session_and_a_valid_cookie(store: Store) -> None:
    c = client(store)
    resp = c.get("/conflicts?status=open")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=/conflicts%3Fstatus%3Dopen"
    c.cookies.set("sg_console", "forged.value.here")
    assert c.get("/").status_code == 303
    assert sign_in(c, "deputy").status_code == 303  # type: ignore[attr-defined]
    page = c.get("/")
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_sign_in_form_needs_its_own_token_and_next_stays_inside(store: Store) -> None:
    c = client(store)
    refused = c.post("/login", data={"login": "deputy", "password": PASSWORDS["deputy"]})
    assert refused.status_code == 403
    resp = sign_in(c, "deputy", next_="//evil.example/")
    assert resp.headers["location"] == "/"  # type: ignore[attr-defined]
    c2 = client(store)
    resp = sign_in(c2, "deputy", next_="/conflicts?status=open")
    assert resp.headers["location"] == "/conflicts?status=open"  # type: ignore[attr-defined]


def test_sign_out_ends_the_session_and_needs_csrf(store: Store) -> None:
    c = client(store)
    sign_in(c, "deputy")
    cookie = c.cookies.get("sg_console")
    assert c.post("/logout", data={}).status_code == 403
    assert c.get("/").status_code == 200
    token = csrf(c.get("/").text)
    assert c.post("/logout", data={"csrf": token}).status_code == 303
    c.cookies.set("sg_console", cookie or "")
    assert c.get("/").status_code == 303  # the same cookie no longer opens anything
    actions = [(a.login, a.action, a.outcome) for a in audit(store)]  # type: ignore[attr-defined]
    assert ("deputy", "sign_out", "refused") in actions and ("deputy", "sign_out", "ok") in actions


def test_lock_out_ends_after_the_window_and_success_resets(store: Store) -> None:
    c = client(store, lockout_failures=3, lockout_window=dt.timedelta(seconds=8))
    for _ in range(2):
        assert sign_in(c, "deputy", "wrong-password-x").status_code == 401  # type: ignore[attr-defined]
    assert sign_in(c, "deputy").status_code == 303  # type: ignore[attr-defined]
    for _ in range(2):
        sign_in(c, "deputy", "wrong-password-x")
    assert sign_in(c, "deputy", "wrong-password-x").status_code == 429  # type: ignore[attr-defined]
    assert sign_in(c, "deputy").status_code == 429  # type: ignore[attr-defined]
    assert sign_in(c, "nobody-at-all", "whatever-pass").status_code == 401  # type: ignore[attr-defined]
    time.sleep(8.5)
    assert sign_in(c, "deputy").status_code == 303  # type: ignore[attr-defined]


def test_disabled_user_and_new_password_end_sessions(store: Store) -> None:
    from console import users

    c = client(store)
    sign_in(c, "director")
    assert c.get("/").status_code == 200
    users.disable_user(store, "director")
    assert c.get("/").status_code == 303
    assert sign_in(c, "director").status_code == 401  # type: ignore[attr-defined]
    users.disable_user(store, "director", enable=True)
    sign_in(c, "director")
    assert c.get("/").status_code == 200
    _, secret = users.reset_password(store, "director")
    assert c.get("/").status_code == 303
    assert sign_in(c, "director", secret).status_code == 303  # type: ignore[attr-defined]


def test_director_reads_but_decides_nothing(store: Store, world: World) -> None:
    c = client(store)
    sign_in(c, "director")
    page = c.get(f"/conflicts/{world.conflicts[0]}")
    assert page.status_code == 200 and "Принять версию системы" not in page.text
    assert "Одобрить" not in c.get("/holds").text
    assert c.get("/users").status_code == 403
    assert c.get("/audit").status_code == 403
    token = csrf(c.get("/").text)
    assert c.post(f"/holds/{world.holds[0]}/discard", data={"csrf": token}).status_code == 403
    assert c.post(f"/periods/{world.period_id}/close", data={"csrf": token}).status_code == 403


def test_a_user_sees_only_their_schools(store: Store, world: World) -> None:
    c = client(store)
    sign_in(c, "other")  # deputy of reg0001 only
    page = c.get("/")
    assert "reg0001" in page.text and world.school_id not in page.text
    assert "reg0002" not in page.text
    assert c.get(f"/runs/{world.failed_run}").status_code == 403
    assert c.get(f"/reconciliations/{world.reconciliation}").status_code == 403
    assert c.get(f"/reconciliations/{world.reconciliation}.xlsx").status_code == 403
    assert "Конфликтов нет" in c.get("/conflicts").text


def test_overview_filters_search_and_pages(store: Store, world: World) -> None:
    c = client(store, page_size=5)
    sign_in(c, "admin")
    first = c.get("/")
    assert "страница 1 из 3" in first.text  # 10 region schools + 3 systems of the school
    assert "reg0005" in c.get("/?page=2").text
    failed = c.get("/?state=failed").text
    assert "reg0000" in failed and "reg0007" in failed and "reg0001" not in failed
    assert world.school_name in c.get("/?q=средняя").text
    assert "reg" not in c.get("/?q=средняя").text.split("<tbody>")[1]


def test_hold_decisions_are_audited_and_the_hook_runs(store: Store, world: World) -> None:
    ran: list[tuple[int, str]] = []

    def approve(s: Store, hold_id: int, by: str) -> str:
        from sync import resolutions

        resolutions.approve_hold(s, hold_id, by=by)
        ran.append((hold_id, by))
        return "одобрена; загрузка запущена"

    c = client(store, approve_hold=approve)
    sign_in(c, "deputy")
    token = csrf(c.get("/holds").text)
    a, b = world.holds[:2]
    resp = c.post(f"/holds/{a}/approve", data={"csrf": token, "comment": "выпускники"})
    assert resp.status_code == 303 and ran == [(a, "deputy")]
    c.post(f"/holds/{b}/discard", data={"csrf": token})
    again = c.post(f"/holds/{b}/discard", data={"csrf": token}, follow_redirects=True)
    assert "уже решена" in again.text
    with store.read() as tx:
        assert tx.holds.get(a).status == "approved"  # type: ignore[union-attr]
        assert tx.holds.get(b).status == "discarded"  # type: ignore[union-attr]
    entries = {(e.action, e.target, e.detail) for e in audit(store)}  # type: ignore[attr-defined]
    assert ("hold_approve", f"hold:{a}", "approve: выпускники") in entries
    assert ("hold_discard", f"hold:{b}", "discard") in entries


def test_identity_link_only_to_a_candidate(store: Store, world: World) -> None:
    c = client(store)
    sign_in(c, "deputy")
    token = csrf(c.get("/identities").text)
    item = world.reviews[0]
    with store.read() as tx:
        review = tx.queries.review(item)
    assert review is not None
    bad = c.post(f"/identities/{item}/link", data={"csrf": token, "to": "someone-else"})
    assert bad.status_code == 409
    ok = c.post(f"/identities/{item}/link", data={"csrf": token, "to": review.candidate_ids[0]})
    assert ok.status_code == 303
    c.post(f"/identities/{world.reviews[1]}/reject", data={"csrf": token})
    with store.read() as tx:
        assert tx.queries.review(item).linked_id == review.candidate_ids[0]  # type: ignore[union-attr]
        assert tx.queries.review(world.reviews[1]).status == "rejected"  # type: ignore[union-attr]
        assert tx.identity is not None
    actions = [e.action for e in audit(store)]  # type: ignore[attr-defined]
    assert "identity_link" in actions and "identity_reject" in actions


def test_period_close_and_reopen(store: Store, world: World) -> None:
    c = client(store)
    sign_in(c, "deputy")
    token = csrf(c.get("/periods").text)
    pid = world.period_id
    assert (
        c.post(
            f"/periods/{pid}/close", data={"csrf": token, "comment": "конец четверти"}
        ).status_code
        == 303
    )
    with store.read() as tx:
        row = next(p for p in tx.queries.period_rows(None) if p.id == pid)
        assert row.closed and row.by == "deputy" and row.at is not None
        period = tx.records.get(Entity.PERIODS, [pid])[pid]
        assert period.closed  # type: ignore[attr-defined]
    page = c.get("/periods").text
    assert "Открыть заново" in page
    c.post(f"/periods/{pid}/reopen", data={"csrf": token})
    with store.read() as tx:
        assert not next(p for p in tx.queries.period_rows(None) if p.id == pid).closed
    entries = [(e.action, e.detail) for e in audit(store)]  # type: ignore[attr-defined]
    assert ("period_close", "конец четверти") in entries and ("period_reopen", None) in entries


def test_reconciliation_drill_down_and_xlsx(store: Store, world: World) -> None:
    from openpyxl import load_workbook

    c = client(store)
    sign_in(c, "deputy")
    rec = world.reconciliation
    top = c.get(f"/reconciliations/{rec}").text
    assert f"?class={world.class_id}" in top
    level2 = c.get(f"/reconciliations/{rec}?class={world.class_id}").text
    assert f"subject={world.subject_id}" in level2
    rows = c.get(f"/reconciliations/{rec}?class={world.class_id}&subject={world.subject_id}")
    assert rows.status_code == 200 and "<tbody>" in rows.text
    with store.read() as tx:
        items = tx.queries.reconciliation_rows(rec, world.class_id, world.subject_id).items
    assert items and all(i.class_id == world.class_id for i in items)
    xlsx = c.get(f"/reconciliations/{rec}.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert "Сводка" in book.sheetnames


def test_seams_say_no_data_until_plugged_in(store: Store, world: World) -> None:
    from console import BackupInfo, ControlPage

    c = client(store)
    sign_in(c, "admin")
    assert "нет данных" in c.get("/backups").text
    assert "нет данных" in c.get("/control").text
    assert c.get("/").text.count("нет данных") >= 3
    now = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
    c2 = client(
        store,
        backups=lambda: [BackupInfo("weekly-2026-03-01.tar.zst", now, 5 * 2**20, "ok")],
        control_report=lambda s, school: ControlPage(
            "Контроль за февраль", "<p>Заполнено 97 %</p>", now
        ),
        next_runs=lambda pairs: {p: now for p in pairs},
    )
    sign_in(c2, "admin")
    assert "weekly-2026-03-01.tar.zst" in c2.get("/backups").text
    assert "Заполнено 97 %" in c2.get("/control").text
    assert "02.03.2026 09:00" in c2.get("/").text  # Moscow time
