"""The parts of ``ops.check`` that decide without a simulator: capabilities against the
configuration (pure), how an unreachable address is said, how a result becomes JSON, and that
the check caps retries of a transient fault whatever the configuration says (respx)."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import SecretStr

from connectors.base import Capabilities, ConnectorSettings, ReadMode
from core.entities import Entity
from ops.check import (
    CheckOptions,
    CheckResult,
    Stage,
    Target,
    capability_problems,
    check_target,
    enabled,
)
from sync.jobs import SystemSetup
from sync.policy import EntityPolicy

CAPS = Capabilities(
    system="x",
    pull={Entity.PUPILS: ReadMode.FULL, Entity.MARKS: ReadMode.INCREMENTAL},
    push=frozenset({Entity.MARKS}),
)


def test_what_the_configuration_asks_beyond_the_system() -> None:
    policies = {
        Entity.MARKS: EntityPolicy(direction="both"),
        Entity.PUPILS: EntityPolicy(direction="push"),
        Entity.LESSONS: EntityPolicy(direction="pull"),
    }
    assert capability_problems(policies, CAPS) == [
        "система не отдаёт: уроки",
        "система не принимает записи: ученики (принимает: отметки)",
    ]
    assert capability_problems({Entity.MARKS: EntityPolicy(direction="both")}, CAPS) == []
    assert capability_problems({Entity.LESSONS: EntityPolicy(direction="off")}, CAPS) == []


def test_what_a_sync_would_read_and_write() -> None:
    policies = {Entity.MARKS: EntityPolicy(direction="push")}
    assert enabled(policies, CAPS) == ((Entity.PUPILS,), (Entity.MARKS,))
    assert enabled({}, CAPS) == ((Entity.PUPILS, Entity.MARKS), ())


def _setup(url: str = "http://es2.test", retries: int = 5) -> SystemSetup:
    settings = ConnectorSettings(
        system="es2",
        base_url=url,
        remote_school="42",
        credentials={"client_id": SecretStr("id"), "client_secret": SecretStr("s")},
        retries=retries,
        retry_budget=600,
        options={"backoff_initial": 0.001, "backoff_max": 0.002},
    )
    return SystemSetup(school_id="sch1", system="es2", connector=settings)


def _no_probe(url: str, timeout: float) -> None:
    return None


def test_a_silent_address_is_said_with_the_timeout() -> None:
    def silent(url: str, timeout: float) -> None:
        raise httpx.ConnectTimeout("timed out")

    result = check_target(
        Target("sch1", "es2", "http://es2.test", _setup()), CheckOptions(timeout=2), probe=silent
    )
    assert result.failed is Stage.REACH
    assert result.reason == "адрес недоступен: нет ответа за 2 с"


def test_a_configuration_problem_is_its_own_stage() -> None:
    result = check_target(Target("sch1", "es2", "http://u:p@es2.test/", problem="SECRET unset"))
    assert result.failed is Stage.CONFIG and "SECRET unset" in result.reason
    assert result.url == "http://es2.test/"  # never the credentials of a URL
    assert result.as_dict()["checks"] == {
        "config": "failed",
        "reach": "skipped",
        "auth": "skipped",
        "capabilities": "skipped",
    }


def test_a_transient_fault_is_retried_once_at_most_whatever_is_configured() -> None:
    with respx.mock(base_url="http://es2.test", assert_all_called=False) as router:
        token = router.post("/api/v2/auth/token").mock(return_value=httpx.Response(503))
        with httpx.Client(base_url="http://es2.test") as client:
            result = check_target(
                Target("sch1", "es2", "http://es2.test", _setup(retries=5)),
                probe=_no_probe,
                client=client,
            )
    assert result.failed is Stage.AUTH
    assert result.reason.startswith("вход не проверен: система отвечает ошибкой (HTTP 503)")
    assert token.call_count == 2  # the first attempt and one retry, not six


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_asked_for_once(status: int) -> None:
    with respx.mock(base_url="http://es2.test", assert_all_called=False) as router:
        token = router.post("/api/v2/auth/token").mock(
            return_value=httpx.Response(
                status, json={"success": False, "error_type": "auth", "error": "no"}
            )
        )
        with httpx.Client(base_url="http://es2.test") as client:
            result = check_target(
                Target("sch1", "es2", "http://es2.test", _setup()), probe=_no_probe, client=client
            )
    assert result.failed is Stage.AUTH and token.call_count == 1
    assert "client_id и client_secret" in result.reason
    assert f"(HTTP {status})" in result.reason


def test_a_passing_result_as_one_line() -> None:
    result = CheckResult("sch1", "es2", "«ЭШ 2.0»", "http://h", None, "всё хорошо", seconds=1.234)
    assert result.line() == "✓ sch1 · es2 «ЭШ 2.0» (http://h): всё хорошо [1,23 с]"
    assert result.as_dict()["ok"] is True
    assert set(result.as_dict()["checks"].values()) == {"ok"}
