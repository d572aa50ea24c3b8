"""``schoolgate check`` against the three simulators over real HTTP on loopback: all good; a wrong
password reaches the simulator exactly once (counted in front of the simulator) and is said in
one line; an unreachable address is said clearly in bounded time; a direction the system cannot
serve and a secret that is not set are their own lines, and the other systems are still checked."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from typer.testing import CliRunner

from fixtures.school import SchoolData
from fixtures.serve import free_port, serve_in_thread
from schoolgate.cli import app
from tests.sync.worlds import ASIOU_CODE, O7_OPTIONS, SECRETS, system_table

runner = CliRunner()
MARKS_BOTH = {"marks": {"direction": "both"}}


@dataclass
class Counted:
    """An ASGI app in front of a simulator that records every request it receives."""

    app: Any
    requests: list[tuple[str, str, bool]] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            authorised = any(k == b"authorization" for k, _ in scope["headers"])
            self.requests.append((scope["method"], scope["path"], authorised))
        await self.app(scope, receive, send)

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and p == path)


@dataclass
class Sims:
    es2: Any
    asiou: Any
    o7: Any
    counted: dict[str, Counted]
    urls: dict[str, str]

    def reset(self) -> None:
        for c in self.counted.values():
            c.requests.clear()
        self.o7.failed_logins.clear()
        self.o7.locked_until.clear()
        self.o7.login_attempts = 0


@pytest.fixture(scope="module")
def sims(tiny_school: SchoolData) -> Iterator[Sims]:
    from fixtures.asiou import Simulator as AsiouSim
    from fixtures.es2 import SimClock
    from fixtures.es2 import Simulator as ES2Sim
    from fixtures.o7 import O7Sim, SimConfig, build_data, create_app

    last = max(r.modified_at for r in tiny_school.all_records() if r.modified_at is not None)
    es2 = ES2Sim(tiny_school, clock=SimClock(start=last + dt.timedelta(hours=12)))
    asiou = AsiouSim(tiny_school, delay=0.0)
    o7 = O7Sim(build_data(tiny_school), SimConfig(login="gateway", password="secret"))
    counted = {"es2": Counted(es2.app), "asiou": Counted(asiou.app), "o7": Counted(create_app(o7))}
    with (
        serve_in_thread(counted["es2"]) as es2_url,
        serve_in_thread(counted["asiou"]) as asiou_url,
        serve_in_thread(counted["o7"]) as o7_url,
    ):
        yield Sims(es2, asiou, o7, counted, {"es2": es2_url, "asiou": asiou_url, "o7": o7_url})


@pytest.fixture
def world(sims: Sims, monkeypatch: pytest.MonkeyPatch) -> Sims:
    sims.reset()
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    return sims


def _systems(sims: Sims, **over: dict[str, Any]) -> dict[str, Any]:
    systems = {
        "es2": system_table("es2", sims.urls["es2"], str(sims.es2.school_id), MARKS_BOTH),
        "asiou": system_table("asiou", sims.urls["asiou"], ASIOU_CODE, MARKS_BOTH),
        "o7": system_table("o7", sims.urls["o7"], sims.o7.data.school_guid, MARKS_BOTH, O7_OPTIONS),
    }
    for key, changes in over.items():
        systems[key] = {**systems[key], **changes}
    return systems


def _run(tmp_path: Path, systems: dict[str, Any], *args: str) -> Any:
    cfg = {
        "store": {"url": f"sqlite:///{tmp_path}/s.db"},
        "schools": [{"id": "sch1", "name": "Школа № 1", "systems": systems}],
    }
    path = tmp_path / "gw.toml"
    path.write_bytes(tomli_w.dumps(cfg).encode())
    return runner.invoke(app, ["--log-level", "error", "check", "--config", str(path), *args])


def _lines(output: str) -> dict[str, str]:
    return {ln.split(" ")[3]: ln for ln in output.splitlines() if ln[:1] in "✓✗"}


def test_every_system_good(world: Sims, tmp_path: Path) -> None:
    result = _run(tmp_path, _systems(world))
    assert result.exit_code == 0, result.output
    lines = _lines(result.output)
    assert sorted(lines) == ["asiou", "es2", "o7"]
    for line in lines.values():
        assert line.startswith("✓ sch1 · ")
        assert "адрес доступен, вход принят, возможности как в настройке" in line
        assert "запись: отметки" in line, line
    assert "«Электронная школа 2.0»" in lines["es2"]
    assert "все системы в порядке: 3" in result.output
    # each system was logged into once
    assert world.counted["es2"].count("POST", "/api/v2/auth/token") == 1
    assert world.counted["o7"].count("POST", "/auth/login") == 1
    assert sum(auth for *_, auth in world.counted["asiou"].requests) == 1


def test_json_for_monitoring(world: Sims, tmp_path: Path) -> None:
    result = _run(tmp_path, _systems(world), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] is True and data["failed"] == 0
    by = {s["system"]: s for s in data["systems"]}
    assert by["o7"]["checks"] == {"config": "ok", "reach": "ok", "auth": "ok", "capabilities": "ok"}
    assert by["es2"]["push"] == ["marks"] and "marks" in by["es2"]["pull"]


@pytest.mark.parametrize(
    ("system", "variable", "auth_request"),
    [
        ("es2", "SG_T_ES2_SECRET", ("POST", "/api/v2/auth/token")),
        ("o7", "SG_T_O7_PASSWORD", ("POST", "/auth/login")),
        ("asiou", "SG_T_ASIOU_PASSWORD", None),
    ],
)
def test_a_wrong_password_reaches_the_system_once(
    world: Sims,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    system: str,
    variable: str,
    auth_request: tuple[str, str] | None,
) -> None:
    monkeypatch.setenv(variable, "Xq7-not-it")
    result = _run(tmp_path, _systems(world), "--json")
    assert result.exit_code == 1, result.output
    by = {s["system"]: s for s in json.loads(result.output)["systems"]}
    assert by[system]["failed"] == "auth"
    assert by[system]["checks"]["reach"] == "ok"
    assert by[system]["checks"]["capabilities"] == "skipped"
    assert "учётные данные отклонены" in by[system]["reason"]
    assert "повторных попыток не было" in by[system]["reason"]
    assert "Xq7-not-it" not in result.output  # the secret is never shown
    counted = world.counted[system]
    if auth_request is not None:
        assert counted.count(*auth_request) == 1
    # exactly one request carried credentials, and nothing else was asked after the refusal
    assert sum(auth for *_, auth in counted.requests) == (1 if system == "asiou" else 0)
    assert len([r for r in counted.requests if r[1] != "/"]) == 1
    others = [s for s in by if s != system]
    assert all(by[s]["ok"] for s in others)


def test_o7_refusal_in_one_line_and_the_account_is_not_locked(
    world: Sims, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SG_T_O7_PASSWORD", "wrong")
    result = _run(tmp_path, _systems(world), "--system", "o7")
    assert result.exit_code == 1
    (line,) = _lines(result.output).values()
    assert line.startswith("✗ sch1 · o7")
    assert "после 5 неудач О7 блокирует учётную запись" in line
    assert world.o7.login_attempts == 1 and not world.o7.locked_until
    monkeypatch.setenv("SG_T_O7_PASSWORD", "secret")
    assert _run(tmp_path, _systems(world), "--system", "o7").exit_code == 0


def test_an_unreachable_address_is_said_in_bounded_time(world: Sims, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    systems = _systems(world, es2={"base_url": closed, "retries": 10, "retry_budget": 600})
    started = time.monotonic()
    result = _run(tmp_path, systems)
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    lines = _lines(result.output)
    assert lines["es2"].startswith("✗")
    assert "адрес недоступен: соединение отклонено" in lines["es2"]
    assert closed in lines["es2"]
    assert lines["o7"].startswith("✓") and lines["asiou"].startswith("✓")
    assert elapsed < 10, elapsed  # configured: 10 retries within 600 s


def test_an_impossible_direction_and_a_missing_secret_are_their_own_lines(
    world: Sims, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SG_T_ASIOU_PASSWORD")
    systems = _systems(world, o7={"entities": {"pupils": {"direction": "push"}}})
    result = _run(tmp_path, systems)
    assert result.exit_code == 1
    lines = _lines(result.output)
    assert "вход принят, но настройка просит невозможного" in lines["o7"]
    assert "не принимает записи: ученики" in lines["o7"]
    assert "ошибка настройки" in lines["asiou"] and "SG_T_ASIOU_PASSWORD" in lines["asiou"]
    assert world.counted["asiou"].requests == []  # nothing was sent without the secret
    assert lines["es2"].startswith("✓")
    assert "не в порядке: 2 из 3" in result.output
