"""``schoolgate users``, and the console as ``schoolgate serve`` runs it: a user made on the command
line signs in, and the session holds across server processes (one signing key, in the store)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import tomli_w
from typer.testing import CliRunner

from fixtures.serve import free_port
from schoolgate.cli import app
from store import Store

runner = CliRunner()


def _cli(*args: str) -> Any:
    return runner.invoke(app, ["--log-level", "error", *args])


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "gw.toml"
    cfg = {
        "store": {"url": f"sqlite:///{tmp_path}/gw.db"},
        "schools": [{"id": "sch42", "name": "Школа"}],
    }
    path.write_bytes(tomli_w.dumps(cfg).encode())
    assert _cli("init", "--config", str(path)).exit_code == 0
    return path


def test_users_are_made_listed_disabled_and_given_new_passwords(tmp_path: Path) -> None:
    cfg = str(_config(tmp_path))
    made = _cli("users", "create", "petrova", "--role", "deputy", "--name", "Петрова А. С.",
                "--schools", "sch42", "--config", cfg)  # fmt: skip
    assert made.exit_code == 0, made.output
    secret = made.output.strip().rsplit("password: ", 1)[1]
    assert len(secret) >= 10
    no_school = _cli("users", "create", "x", "--role", "deputy", "--config", cfg)
    assert no_school.exit_code != 0 and "--schools" in no_school.output
    bad_role = _cli("users", "create", "y", "--role", "root", "--config", cfg)
    assert bad_role.exit_code != 0 and "unknown role" in bad_role.output
    again = _cli(
        "users", "create", "petrova", "--role", "deputy", "--schools", "sch42", "--config", cfg
    )
    assert again.exit_code != 0 and "exists" in again.output
    listed = _cli("users", "list", "--config", cfg)
    assert "petrova" in listed.output and "deputy" in listed.output and secret not in listed.output
    with Store.open(f"sqlite:///{tmp_path}/gw.db") as store, store.read() as tx:
        found = tx.console.user("petrova")
        assert found is not None and found[1].startswith("$argon2id$") and secret not in found[1]
    assert _cli("users", "disable", "petrova", "--config", cfg).exit_code == 0
    assert "disabled" in _cli("users", "list", "--config", cfg).output
    reset = _cli("users", "reset-password", "petrova", "--config", cfg)
    assert reset.exit_code == 0 and secret not in reset.output
    assert _cli("users", "reset-password", "nobody", "--config", cfg).exit_code != 0


def test_serve_runs_the_console_across_processes(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    made = _cli("users", "create", "admin", "--role", "admin", "--config", str(cfg))
    secret = made.output.strip().rsplit("password: ", 1)[1]
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("schoolgate")), "--log-level", "warning", "serve",
         "--config", str(cfg), "--port", str(port), "--no-access-log", "--workers", "2",
         "--no-secure-cookies"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.2)
        with httpx.Client(base_url=url) as client:
            assert client.get("/").headers["location"] == "/console/"
            form = client.get("/console/login").text
            token = re.search(r'name="csrf" value="([^"]+)"', form)
            assert token is not None
            client.post(
                "/console/login",
                data={"csrf": token.group(1), "login": "admin", "password": secret},
            )
            # new connections each time: the kernel spreads them over both processes
            for _ in range(8):
                with httpx.Client(base_url=url, cookies=client.cookies) as fresh:
                    page = fresh.get("/console/")
                    assert page.status_code == 200 and "Школы и системы" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
