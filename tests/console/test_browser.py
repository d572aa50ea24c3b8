"""The console in a real browser: headless Debian Chromium driven by Playwright, the console served
by uvicorn on loopback over a filled store. Screenshots of every page at 1280 px and a phone's
width go to tests/_output/console/."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.console.conftest import Served, csrf_of, sign_in

CHROMIUM = os.environ.get("SCHOOLGATE_CHROMIUM", "/usr/bin/chromium")
OUT = Path(__file__).resolve().parents[1] / "_output" / "console"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: `make chromium` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _page(browser: object, width: str = "desktop") -> object:
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, locale="ru-RU")  # type: ignore[attr-defined]
    return context.new_page()


def _sign_in(page: object, url: str, login: str, password: str) -> None:
    page.goto(f"{url}/console/")  # type: ignore[attr-defined]
    page.get_by_label("Логин").fill(login)  # type: ignore[attr-defined]
    page.get_by_label("Пароль").fill(password)  # type: ignore[attr-defined]
    # the form posts and redirects: wait until the signed-in page has loaded, or a key pressed next
    # lands on the login page that is about to go away
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.get_by_role("button", name="Войти").click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]


def test_resolve_a_conflict_of_a_school_with_a_failed_run(browser: object, served: Served) -> None:
    from bench.console_world import PASSWORDS

    w = served.world
    page = _page(browser)
    _sign_in(page, served.url, "deputy", PASSWORDS["deputy"])
    # the overview: the school, its failed ES2 pull and its open conflicts
    row = page.locator("tr", has_text=w.school_name).filter(has_text="Электронная школа")  # type: ignore[attr-defined]
    assert row.count() == 1
    assert "ошибка" in row.inner_text()
    assert re.search(r"\b\d+\b", row.locator("td[data-label='Конфликты']").inner_text())
    # the failed run's detail says why
    row.locator("a", has_text="ошибка").first.click()
    assert "503" in page.locator("pre.error").inner_text()  # type: ignore[attr-defined]
    # the conflict, side by side, resolved by taking the system's version
    first = w.conflicts[0]
    page.goto(f"{served.url}/console/conflicts")  # type: ignore[attr-defined]
    page.get_by_role("link", name=f"Конфликт № {first}", exact=True).click()  # type: ignore[attr-defined]
    assert page.locator("table.sides tr.differs").count() >= 1  # type: ignore[attr-defined]
    page.get_by_label("Комментарий").fill("сверено с бумажным журналом")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Принять версию системы").click()  # type: ignore[attr-defined]
    assert "решён" in page.locator(".flash").inner_text()  # type: ignore[attr-defined]
    # gone from the open queue
    assert page.get_by_role("link", name=f"Конфликт № {first}", exact=True).count() == 0  # type: ignore[attr-defined]
    # the store took the system's value, and the audit has the decision with the comment
    with served.store.read() as tx:
        c = tx.queries.conflict(first)
        assert c is not None and c.status == "resolved" and c.resolved_by == "deputy"
        assert c.resolution == "take-remote"
        from core.entities import Entity

        mark = tx.records.get(Entity.MARKS, [c.record_id])[c.record_id]
        assert c.incoming is not None and mark.content()["value"] == c.incoming["value"]
        audit = tx.queries.console_audit().items
    entry = next(a for a in audit if a.action == "conflict_resolve")
    assert entry.login == "deputy" and entry.target == f"conflict:{first}"
    assert entry.detail == "take-remote: сверено с бумажным журналом"
    assert any(a.action == "sign_in" and a.outcome == "ok" for a in audit)
    page.goto(f"{served.url}/console/audit")  # type: ignore[attr-defined]
    assert "сверено с бумажным журналом" in page.locator("table").inner_text()  # type: ignore[attr-defined]


def test_deputy_cannot_reach_administrator_actions(
    browser: object, served: Served, served_plain: Served
) -> None:
    from bench.console_world import PASSWORDS

    page = _page(browser)
    _sign_in(page, served.url, "deputy", PASSWORDS["deputy"])
    assert page.get_by_role("link", name="Пользователи").count() == 0  # type: ignore[attr-defined]
    resp = page.goto(f"{served.url}/console/users")  # type: ignore[attr-defined]
    assert resp.status == 403
    # the session cookie as the browser holds it
    cookie = next(c for c in page.context.cookies() if c["name"] == "sg_console")  # type: ignore[attr-defined]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    served = served_plain
    # a direct POST: without a CSRF token, with the administrator's stolen token, with its own
    admin = httpx.Client(base_url=served.url, follow_redirects=True)
    sign_in(admin, "admin")
    stolen = csrf_of(admin.get("/console/users").text)
    deputy = httpx.Client(base_url=served.url, follow_redirects=True)
    sign_in(deputy, "deputy")
    own = csrf_of(deputy.get("/console/").text)
    form = {"login": "intruder", "name": "x", "role": "admin", "schools": ""}
    assert deputy.post("/console/users", data=form).status_code == 403
    assert deputy.post("/console/users", data={**form, "csrf": stolen}).status_code == 403
    assert deputy.post("/console/users", data={**form, "csrf": own}).status_code == 403
    assert deputy.post("/console/users/director/disable", data={"csrf": own}).status_code == 403
    # a director decides nothing
    director = httpx.Client(base_url=served.url, follow_redirects=True)
    sign_in(director, "director")
    mine = csrf_of(director.get("/console/").text)
    c = served.world.conflicts[1]
    assert (
        director.post(
            f"/console/conflicts/{c}/resolve", data={"csrf": mine, "take": "local"}
        ).status_code
        == 403
    )
    # a deputy of another school cannot decide this school's conflict
    other = httpx.Client(base_url=served.url, follow_redirects=True)
    sign_in(other, "other")
    theirs = csrf_of(other.get("/console/").text)
    assert (
        other.post(
            f"/console/conflicts/{c}/resolve", data={"csrf": theirs, "take": "local"}
        ).status_code
        == 403
    )
    assert other.get(f"/console/conflicts/{c}").status_code == 403
    with served.store.read() as tx:
        assert all(u.login != "intruder" for u in tx.console.users())
        assert tx.queries.conflict(c).status == "open"  # type: ignore[union-attr]
        refused = [a for a in tx.queries.console_audit().items if a.outcome == "refused"]
    assert {a.login for a in refused} >= {"deputy", "director"}
    assert sum(1 for a in refused if a.action == "user_create") == 3


def test_lock_out_after_failed_sign_ins(browser: object, served: Served) -> None:
    from bench.console_world import PASSWORDS

    page = _page(browser)
    for _ in range(5):
        _sign_in(page, served.url, "director", "wrong-password")
    assert "закрыт" in page.locator("#login-error").inner_text()  # type: ignore[attr-defined]
    _sign_in(page, served.url, "director", PASSWORDS["director"])  # the right one, too late
    assert "закрыт" in page.locator("#login-error").inner_text()  # type: ignore[attr-defined]
    with served.store.read() as tx:
        outcomes = [a.outcome for a in tx.queries.console_audit().items if a.login == "director"]
    assert outcomes.count("failed") == 5 and outcomes.count("locked") == 1
    # another login is not locked
    _sign_in(page, served.url, "deputy", PASSWORDS["deputy"])
    assert page.get_by_role("heading", name="Школы и системы").count() == 1  # type: ignore[attr-defined]


def _report(page: object, url: str, school: str) -> None:
    """Open the school's control page and wait until its report is built (the first look at a
    school may find it being built)."""
    for _ in range(300):
        page.goto(f"{url}/console/control?school={school}")  # type: ignore[attr-defined]
        if page.locator("#verdict").count():  # type: ignore[attr-defined]
            return
        assert "Отчёт составляется" in page.content()  # type: ignore[attr-defined]
        page.wait_for_timeout(200)  # type: ignore[attr-defined]
    raise AssertionError("the control report was not built in a minute")


def test_next_run_backups_and_control_report_show(browser: object, served: Served) -> None:
    """The seams as ``schoolgate serve`` wires them: the schedule's next run, the backup ops
    made, the journal-control report with its charts drawn."""
    from bench.console_world import PASSWORDS

    w = served.world
    for width in WIDTHS:
        page = _page(browser, width)
        _sign_in(page, served.url, "admin", PASSWORDS["admin"])  # backups: the admin's alone
        row = page.locator("tr", has_text=w.school_name).filter(has_text="Электронная школа")  # type: ignore[attr-defined]
        nxt = row.locator("td[data-label='Следующий запуск']").inner_text()
        assert re.fullmatch(r"\d\d\.\d\d\.20\d\d 06:30", nxt.strip()), nxt  # Yekaterinburg
        page.goto(f"{served.url}/console/backups")  # type: ignore[attr-defined]
        listed = page.locator("table tbody tr")  # type: ignore[attr-defined]
        assert listed.count() == 1
        assert re.match(r"schoolgate-\d{8}-\d{6}", listed.locator("th").inner_text())
        assert "готова" in listed.inner_text()
        _report(page, served.url, w.school_id)
        assert "проверять нечего" not in page.locator("#verdict").inner_text()  # type: ignore[attr-defined]
        charts = page.locator("div.report figure svg")  # type: ignore[attr-defined]
        assert charts.count() >= 2
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 50 and box["height"] > 20, box
        for figure in page.locator("div.report figure").all():  # type: ignore[attr-defined]
            box = figure.bounding_box()
            assert box["x"] + box["width"] <= WIDTHS[width][0] + 1  # within the screen
        heat = page.locator("#heatmap svg rect")  # type: ignore[attr-defined]
        assert heat.count() > 10  # cells drawn, not an empty frame
        page.screenshot(path=str(OUT / f"control-report-{width}.png"), full_page=True)  # type: ignore[attr-defined]
        overflow = page.evaluate(  # type: ignore[attr-defined]
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, (width, overflow)


def test_screenshots_of_every_page(browser: object, served: Served) -> None:
    from bench.console_world import PASSWORDS

    w = served.world
    rec = w.reconciliation
    pages = {
        "overview": "/",
        "runs": "/runs",
        "run": f"/runs/{w.failed_run}",
        "conflicts": "/conflicts",
        "conflict": f"/conflicts/{w.conflicts[0]}",
        "holds": "/holds",
        "identities": "/identities",
        "reconciliations": "/reconciliations",
        "reconciliation": f"/reconciliations/{rec}",
        "reconciliation-class": f"/reconciliations/{rec}?class={w.class_id}",
        "reconciliation-rows": f"/reconciliations/{rec}?class={w.class_id}&subject={w.subject_id}",
        "control": "/control",
        "control-school": f"/control?school={w.school_id}",
        "periods": "/periods",
        "backups": "/backups",
        "users": "/users",
        "audit": "/audit",
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page = _page(browser, width)
        page.goto(f"{served.url}/console/login")  # type: ignore[attr-defined]
        page.screenshot(path=str(OUT / f"login-{width}.png"), full_page=True)  # type: ignore[attr-defined]
        _sign_in(page, served.url, "admin", PASSWORDS["admin"])
        _report(page, served.url, w.school_id)  # built before its screenshot
        for name, path in pages.items():
            resp = page.goto(f"{served.url}/console{path}")  # type: ignore[attr-defined]
            assert resp.status == 200, name
            page.screenshot(path=str(OUT / f"{name}-{width}.png"), full_page=True)  # type: ignore[attr-defined]
            # nothing wider than the screen but the tables' own scroll areas
            overflow = page.evaluate(  # type: ignore[attr-defined]
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, (name, width, overflow)
    # the keyboard reaches the skip link first, and focus is visible
    page = _page(browser)
    _sign_in(page, served.url, "admin", PASSWORDS["admin"])
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.className") == "skip"  # type: ignore[attr-defined]
    print_page = _page(browser)
    _sign_in(print_page, served.url, "admin", PASSWORDS["admin"])
    print_page.emulate_media(media="print")  # type: ignore[attr-defined]
    print_page.goto(f"{served.url}/console/conflicts")  # type: ignore[attr-defined]
    assert not print_page.locator("nav[aria-label='Разделы']").is_visible()  # type: ignore[attr-defined]
    print_page.screenshot(path=str(OUT / "conflicts-print.png"), full_page=True)  # type: ignore[attr-defined]
