"""``schoolgate demo --serve``: the demo, then the console on the demo store with a demo
administrator and deputy director whose printed passwords sign in."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fixtures.serve import free_port

pytestmark = pytest.mark.slow


def test_demo_serve_prints_passwords_that_sign_in(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("schoolgate")), "--log-format", "console",
             "--log-level", "error", "demo", "--dir", str(tmp_path / "demo"), "--serve",
             "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        text = ""
        while "Ctrl-C" not in text:
            assert proc.poll() is None, log.read_text("utf-8")
            assert time.monotonic() < deadline, text[-2000:]
            time.sleep(0.5)
            text = log.read_text("utf-8")
        found = dict(re.findall(r"(demo-admin|demo-deputy)\s+password: (\S+)", text))
        assert set(found) == {"demo-admin", "demo-deputy"}
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        cookies: dict[str, dict[str, str]] = {}
        for login, password in found.items():
            # cookies are Secure: httpx keeps those for https only, a browser on 127.0.0.1 too
            with httpx.Client(base_url=url) as client:
                form = client.get("/console/login")
                token = re.search(r'name="csrf" value="([^"]+)"', form.text)
                signed = re.search(r"sg_console_login=([^;]+)", form.headers["set-cookie"])
                assert token is not None and signed is not None
                resp = client.post(
                    "/console/login",
                    data={"csrf": token.group(1), "login": login, "password": password},
                    headers={"Cookie": f"sg_console_login={signed.group(1)}"},
                )
                assert resp.status_code == 303, (login, resp.text[:300])
                cookie = resp.headers["set-cookie"].lower()
                assert "sg_console=" in cookie and "secure" in cookie and "httponly" in cookie
                assert "samesite=strict" in cookie
                # the cookie as a browser on 127.0.0.1 would send it back
                value = re.search(r"sg_console=([^;]+)", resp.headers["set-cookie"])
                assert value is not None
                page = httpx.get(f"{url}/console/", cookies={"sg_console": value.group(1)})
                assert page.status_code == 200 and "Школы и системы" in page.text
                cookies[login] = {"sg_console": value.group(1)}
        # the console's seams on the demo: the schedule's next run (weekdays at 07:00, Moscow),
        # the backup the demo made, the journal-control report with its charts
        overview = httpx.get(f"{url}/console/", cookies=cookies["demo-deputy"]).text
        runs = re.findall(r'data-label="Следующий запуск">([^<]*)<', overview)
        assert len(runs) == 3 and all(re.fullmatch(r"\d\d\.\d\d\.20\d\d 07:00", r) for r in runs)
        backups = httpx.get(f"{url}/console/backups", cookies=cookies["demo-admin"]).text
        assert re.search(r"schoolgate-\d{8}-\d{6}", backups) and "готова" in backups
        deadline = time.monotonic() + 120  # built in the background on the first look
        while True:
            control = httpx.get(f"{url}/console/control", cookies=cookies["demo-deputy"]).text
            if 'id="verdict"' in control or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert control.count("<svg") >= 2 and "проверять нечего" not in control
    finally:
        proc.terminate()
        proc.wait(timeout=30)
