"""Configuration: one clear message naming the key; secrets only by reference, never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.entities import Entity
from core.errors import ConfigError
from schoolgate.config import SecretRef, load_config, parse_config

GOOD = """
[store]
url = "sqlite:///x.db"

[[schools]]
id = "sch42"
name = "МБОУ СОШ № 42"
timezone = "Asia/Novokuznetsk"

[schools.systems.es2]
base_url = "http://127.0.0.1:8701"
remote_school = "42"
credentials = { client_id = { env = "ES2_ID" }, client_secret = { file = "SECRET_FILE" } }
entities = { marks = { direction = "both", conflict = "manual", fields = { value = "newer-wins" } } }
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "gw.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_good_config_and_secret_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "es2.secret"
    secret.write_text("s3cr3t\n", encoding="utf-8")
    cfg = load_config(write(tmp_path, GOOD.replace("SECRET_FILE", str(secret))))
    es2 = cfg.school("sch42").systems["es2"]
    monkeypatch.setenv("ES2_ID", "client-1")
    assert es2.credentials["client_id"].resolve().get_secret_value() == "client-1"
    assert es2.credentials["client_secret"].resolve().get_secret_value() == "s3cr3t"
    assert es2.policy(Entity.MARKS).direction == "both"
    assert es2.policy(Entity.MARKS).policy_for("value") == "newer-wins"
    assert es2.policy(Entity.MARKS).policy_for("work_type") == "manual"
    assert es2.policy(Entity.PUPILS).direction == "pull"
    # without a policy, the side that owns the entity wins
    assert es2.policy(Entity.PUPILS).policy_for("class_id") == "source-wins"
    assert "s3cr3t" not in repr(cfg) and "s3cr3t" not in repr(es2.credentials)


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (
            ("http://127.0.0.1:8701", "ftp://x"),
            "schools[sch42].systems.es2.base_url",
            "should match",
        ),
        (("Asia/Novokuznetsk", "Mars/Olympus"), "schools[sch42].timezone", "unknown time zone"),
        (
            ('direction = "both"', 'direction = "sideways"'),
            "entities.marks.direction",
            "Input should be",
        ),
        (('{ env = "ES2_ID" }', '"inline-secret"'), "credentials.client_id", "valid dictionary"),
        (("marks = {", "gradebook = {"), "entities.gradebook", "Input should be"),
        (('url = "sqlite:///x.db"', 'url = "mysql://x"'), "store.url", "sqlite"),
    ],
)
def test_invalid_config_names_key(
    tmp_path: Path, change: tuple[str, str], key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, GOOD.replace(*change)))
    assert key in str(info.value)
    assert problem in str(info.value)
    assert "inline-secret" not in str(info.value)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[store\nurl="))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")


def test_secret_ref_needs_exactly_one_source_and_reports_missing_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        parse_config(
            {
                "schools": [
                    {
                        "id": "a",
                        "name": "a",
                        "systems": {
                            "es2": {
                                "base_url": "http://x",
                                "remote_school": "1",
                                "credentials": {"k": {}},
                            }
                        },
                    }
                ]
            }
        )
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    with pytest.raises(ConfigError, match="NOPE_NOT_SET is not set"):
        SecretRef(env="NOPE_NOT_SET").resolve("k")


def test_duplicate_school_ids() -> None:
    with pytest.raises(ConfigError, match="repeat"):
        parse_config({"schools": [{"id": "a", "name": "x"}, {"id": "a", "name": "y"}]})


def test_owner_decides_when_no_policy_is_given() -> None:
    from sync.policy import EntityPolicy

    assert EntityPolicy(owner="local").policy_for("value") == "local-wins"
    assert EntityPolicy(owner="local", conflict="manual").policy_for("value") == "manual"
    assert (
        EntityPolicy(owner="local", fields={"value": "newer-wins"}).policy_for("value")
        == "newer-wins"
    )
    assert EntityPolicy().default_policy == "source-wins"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://gateway:Pa55w0rd@db.local/journal",
        "postgresql://gateway:Pa55w0rd@127.0.0.1:5432/test",
    ],
)
def test_a_store_url_with_a_password_is_refused_with_a_pointer(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"store": {"url": url}})
    message = str(info.value)
    assert "Pa55w0rd" not in message
    assert message.startswith("store.url:") and "store.password" in message


def test_the_store_password_comes_from_a_secret_reference(
    monkeypatch: pytest.MonkeyPatch, pg_server: str
) -> None:
    from schoolgate.runner import open_store

    monkeypatch.setenv("SG_T_STORE_PW", "not-needed-with-trust-auth")
    cfg = parse_config(
        {
            "store": {
                "url": pg_server.replace("root@", "root@"),
                "password": {"env": "SG_T_STORE_PW"},
            }
        }
    )
    assert cfg.store.secret() == "not-needed-with-trust-auth"
    with open_store(cfg) as store:
        store.revision()  # connects (trust auth takes any password)
        assert "not-needed" not in store.display_url and "***" in store.display_url


def test_a_secret_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_bytes("пароль".encode("cp1251"))
    with pytest.raises(ConfigError) as info:
        SecretRef(file=secret).resolve("systems.es2.credentials.client_secret")
    assert str(info.value) == (
        f"systems.es2.credentials.client_secret: secret file {secret} is not UTF-8 text"
    )
