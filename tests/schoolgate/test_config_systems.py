"""A system's table: its limits are finite and checked, its URL holds no secret, and the
connector is given every limit (issue 12, points 15-17)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError
from schoolgate.config import load_config, parse_config

PASSWORD = "hunter2-Зима"


def config(**system: Any) -> dict[str, Any]:
    table = {"base_url": "https://es2.example.ru", "remote_school": "42", **system}
    return {"schools": [{"id": "s1", "name": "Школа", "systems": {"es2": table}}]}


def refused(**system: Any) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(config(**system))
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("timeout", float("inf"), "finite number"),
        ("timeout", float("nan"), "finite number"),
        ("timeout", 0, "greater than 0"),
        ("timeout", -5, "greater than 0"),
        ("timeout", 10_000, "less than or equal to 3600"),
        ("retries", -1, "greater than or equal to 0"),
        ("retries", 21, "less than or equal to 20"),
        ("retry_budget", 0, "greater than 0"),
        ("retry_budget", float("inf"), "finite number"),
        ("request_deadline", 0, "greater than 0"),
        ("request_deadline", float("inf"), "finite number"),
        ("max_body_mb", -1, "greater than 0"),
        ("max_body_mb", float("inf"), "finite number"),
        ("max_body_mb", "lots", "valid number"),
    ],
)
def test_limits_are_finite_and_positive(key: str, value: Any, problem: str) -> None:
    message = refused(**{key: value})
    assert f"schools[s1].systems.es2.{key}" in message and problem in message


def test_timeout_inf_in_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text(
        '[[schools]]\nid = "s1"\nname = "Школа"\n[schools.systems.es2]\n'
        'base_url = "https://es2.example.ru"\nremote_school = "42"\ntimeout = inf\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"systems\.es2\.timeout: Input should be a finite"):
        load_config(path)


@pytest.mark.parametrize(
    "url",
    [
        f"https://gateway:{PASSWORD}@es2.example.ru",
        f"http://gateway:{PASSWORD}@127.0.0.1:8701/api",
        "https://gateway@es2.example.ru",
    ],
)
def test_credentials_inside_a_url_are_refused_with_a_pointer(url: str) -> None:
    message = refused(base_url=url)
    assert "schools[s1].systems.es2.base_url" in message
    assert "credentials = { " in message and "password = { env = " in message
    assert PASSWORD not in message and "gateway" not in message


@pytest.mark.parametrize("param", ["token", "api_key", "Password", "sid"])
def test_a_secret_query_parameter_in_a_url_is_refused(param: str) -> None:
    message = refused(base_url=f"https://es2.example.ru/?{param}={PASSWORD}&x=1")
    assert param.lower() in message and "env = " in message
    assert PASSWORD not in message


def test_a_url_with_an_at_sign_only_in_its_path_or_query_is_fine() -> None:
    parse_config(config(base_url="https://es2.example.ru/a@b?who=x@y"))


def test_the_connector_is_given_every_limit() -> None:
    system = (
        parse_config(
            config(timeout=12.5, retries=2, retry_budget=90, request_deadline=45, max_body_mb=64)
        )
        .schools[0]
        .systems["es2"]
    )
    settings = system.connector_settings("es2")
    assert (settings.timeout, settings.retries, settings.retry_budget) == (12.5, 2, 90.0)
    assert (settings.request_deadline, settings.max_body_mb) == (45.0, 64.0)


def test_defaults_leave_deadline_and_body_cap_to_the_connector() -> None:
    system = parse_config(config()).schools[0].systems["es2"]
    settings = system.connector_settings("es2")
    assert (settings.timeout, settings.retries, settings.retry_budget) == (30.0, 5, 300.0)
    assert settings.request_deadline is None and settings.max_body_mb is None
