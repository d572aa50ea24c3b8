"""``schoolgate simulate``: the hostile options, parsed and then served by a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from fixtures.generator import Dirt
from fixtures.pace import Pace
from fixtures.serve import free_port
from schoolgate.cli import app
from schoolgate.cli.simulate_cmd import parse_dirt, simulator_options

runner = CliRunner()
S = "/api/v2/schools/42"


def _options(system: str, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "dirt": "none",
        "duplicates": 0.0,
        "moving": 0.0,
        "latency": 0.0,
        "jitter": 0.0,
        "rate_limit": 0,
        "seed": 1,
    }
    return simulator_options(system, **{**base, **kw})  # type: ignore[arg-type]


def test_everything_hostile_is_off_by_default() -> None:
    assert _options("es2") == {"dirt": None, "duplicates": 0.0, "moving": 0.0}
    assert _options("o7") == {"dirt": None, "duplicates": 0.0}


def test_dirt_latency_and_rate_limit_become_simulator_options() -> None:
    got = _options("es2", dirt="realistic", latency=100, jitter=50, rate_limit=10, moving=0.1)
    assert got == {
        "dirt": Dirt.realistic(),
        "duplicates": 0.0,
        "moving": 0.1,
        "pace": Pace(latency_ms=100, jitter_ms=50, rate_limit=10, seed=1),
    }
    assert parse_dirt("0.05") == Dirt.uniform(0.05)
    assert _options("asiou", latency=60)["pace"] == Pace(latency_ms=60, seed=1)


@pytest.mark.parametrize(
    ("system", "option"),
    [("o7", {"moving": 0.2}), ("asiou", {"rate_limit": 10}), ("o7", {"rate_limit": 5})],
)
def test_what_a_contract_does_not_have_is_refused(system: str, option: dict[str, float]) -> None:
    with pytest.raises(typer.BadParameter):
        _options(system, **option)


@pytest.mark.parametrize("text", ["filthy", "1.5", "-0.1"])
def test_bad_dirt_is_refused(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_dirt(text)


def test_help_names_the_options() -> None:
    result = runner.invoke(app, ["simulate", "es2", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--dirt", "--duplicates", "--moving", "--latency", "--jitter", "--rate-limit"):
        assert option in result.output


@pytest.fixture
def es2_process() -> Iterator[str]:
    """``schoolgate simulate es2`` in a process of its own: dirty, 120 ms late, 10 requests/s."""
    port = free_port()
    exe = Path(sys.executable).with_name("schoolgate")
    args = [str(exe), "simulate", "es2", "--port", str(port), "--size", "tiny", "--seed", "2"]
    args += ["--dirt", "realistic", "--latency", "120", "--rate-limit", "10"]
    proc = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.post(f"{url}/api/v2/auth/token", json={}, timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the simulator did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_command_serves_a_dirty_school_late_and_rate_limited(es2_process: str) -> None:
    from fixtures.generator import generate_school

    school = generate_school(2, "tiny", dirt=Dirt.realistic())
    with httpx.Client(base_url=es2_process, timeout=30) as http:
        body = {"client_id": "schoolgate", "client_secret": "secret", "school_id": 42}
        started = time.perf_counter()
        token = http.post("/api/v2/auth/token", json=body).json()["data"]["access_token"]
        assert time.perf_counter() - started >= 0.12
        http.headers["Authorization"] = f"Bearer {token}"
        pupils = http.get(f"{S}/pupils", params={"limit": 1000}).json()["data"]
        bad = school.manifest.select("bad_snils", system="es2")[0]
        ext = next(p.ext_ids["es2"] for p in school.pupils if p.id == bad.record_id)
        served = next(p for p in pupils if str(p["id"]) == ext)
        assert served["snils"].replace("-", "").replace(" ", "") == bad.value
        with ThreadPoolExecutor(15) as pool:  # 15 at once: more than 10 within one second
            codes = list(pool.map(lambda _: _subjects(es2_process, token), range(15)))
    assert 429 in codes and codes.count(200) <= 10


def _subjects(url: str, token: str) -> int:
    with httpx.Client(base_url=url, timeout=30) as http:
        r = http.get(f"{S}/subjects", headers={"Authorization": f"Bearer {token}"})
        return r.status_code
