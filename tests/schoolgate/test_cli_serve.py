"""``schoolgate tokens create|list|revoke`` and ``schoolgate serve`` (a real process on loopback,
one worker and two)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from fixtures.serve import free_port
from schoolgate.cli import app
from store import Store

runner = CliRunner()


def _config(tmp_path: Path, *, init: bool = True) -> Path:
    db = tmp_path / "store.db"
    path = tmp_path / "schoolgate.toml"
    path.write_text(
        f"""
[store]
url = "sqlite:///{db.as_posix()}"

[[schools]]
id = "sch42"
name = "МБОУ СОШ № 42"
""",
        encoding="utf-8",
    )
    if init:
        with Store.open(f"sqlite:///{db}") as s:
            s.upgrade()
    return path


def test_tokens_are_shown_once_and_stored_only_as_hashes(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    made = runner.invoke(
        app,
        ["tokens", "create", "--name", "portal", "--schools", "sch42,sch7",
         "--scopes", "feed", "--scopes", "snapshot", "--config", str(cfg)],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("sgt_") and len(secret) > 40
    db = (tmp_path / "store.db").read_bytes()
    assert secret.encode() not in db
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in db
    listed = runner.invoke(app, ["tokens", "list", "--config", str(cfg)])
    assert listed.exit_code == 0
    assert "portal" in listed.stdout and "sch42, sch7" in listed.stdout
    assert secret not in listed.stdout
    again = runner.invoke(
        app,
        ["tokens", "create", "--name", "portal", "--schools", "sch42", "--scopes", "feed",
         "--config", str(cfg)],
    )  # fmt: skip
    assert again.exit_code == 2 and "exists already" in again.output
    revoked = runner.invoke(app, ["tokens", "revoke", "portal", "--config", str(cfg)])
    assert revoked.exit_code == 0
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as s, s.read() as tx:
        (token,) = tx.tokens.list()
    assert token.revoked and token.schools == ("sch42", "sch7")
    assert token.scopes == ("feed", "snapshot")
    twice = runner.invoke(app, ["tokens", "revoke", "portal", "--config", str(cfg)])
    assert twice.exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scopes", "feed,admin"], "unknown scopes admin"),
        (["--scopes", "journal", "--pupil", "p1"], "cannot write"),
        (["--scopes", "feed", "--rate", "0"], "rate must be above 0"),
    ],
)
def test_token_requests_that_make_no_sense_are_refused(
    tmp_path: Path, args: list[str], message: str
) -> None:
    cfg = _config(tmp_path)
    r = runner.invoke(
        app, ["tokens", "create", "--name", "x", "--schools", "sch42", *args, "--config", str(cfg)]
    )
    assert r.exit_code == 2 and message in r.output


def _serve(cfg: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("schoolgate")), "--log-level", "warning", "serve",
         "--config", str(cfg), "--port", str(port), "--no-access-log", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    return proc, f"http://127.0.0.1:{port}"


def _wait_healthy(proc: subprocess.Popen[bytes], url: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            return httpx.get(f"{url}/health", timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_answers_health_feed_and_openapi(tmp_path: Path, workers: str) -> None:
    cfg = _config(tmp_path)
    made = runner.invoke(
        app,
        ["tokens", "create", "--name", "p", "--schools", "sch42", "--scopes", "feed",
         "--config", str(cfg)],
    )  # fmt: skip
    secret = made.stdout.strip().splitlines()[-1]
    proc, url = _serve(cfg, "--workers", workers)
    try:
        assert _wait_healthy(proc, url).json()["status"] == "ok"
        feed = httpx.get(
            f"{url}/feed/v1/changes", headers={"Authorization": f"Bearer {secret}"}, timeout=10
        )
        assert feed.status_code == 200 and feed.json()["events"] == []
        spec = httpx.get(f"{url}/openapi.json", timeout=10).json()
        assert "/feed/v1/changes" in spec["paths"]
        assert "/journal/v1/{school}/marks" in spec["paths"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def test_serve_refuses_a_store_that_is_not_initialised(tmp_path: Path) -> None:
    cfg = _config(tmp_path, init=False)
    r = runner.invoke(app, ["serve", "--config", str(cfg)])
    assert r.exit_code == 2 and "schoolgate init" in r.output
