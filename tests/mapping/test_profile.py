"""Profiles: shipped code tables, merged overrides, offsets and zone names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.errors import ConfigError
from mapping import profile as profile_mod
from mapping.profile import load_profile, parse_timezone


def test_offsets_and_zone_names() -> None:
    assert parse_timezone("+07:00").utcoffset(None) == dt.timedelta(hours=7)
    assert parse_timezone("-03:30").utcoffset(None) == dt.timedelta(hours=-3, minutes=-30)
    moscow = parse_timezone("Europe/Moscow")
    assert dt.datetime(2025, 10, 14, 12, tzinfo=moscow).utcoffset() == dt.timedelta(hours=3)
    with pytest.raises(ConfigError):
        parse_timezone("Nowhere/City")


def test_override_merges_key_by_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = {
        "system": "x",
        "timezone": "+07:00",
        "codes": {"attendance": {"Н": "Н", "ОП": "О"}, "kind": {"a": "b"}},
        "page_size": 500,
    }
    monkeypatch.setattr(
        profile_mod, "shipped_profile_data", lambda system, shipped_file=None: shipped
    )
    override = tmp_path / "site.toml"
    override.write_text(
        'timezone = "Europe/Moscow"\n[codes.attendance]\n"ОП" = "Н"\n"ОПЗ" = "О"\n',
        encoding="utf-8",
    )
    p = load_profile("x", override)
    assert p.code("attendance", "ОП") == "Н" and p.code("attendance", "ОПЗ") == "О"
    assert p.code("attendance", "Н") == "Н" and p.code("kind", "a") == "b"
    assert p.code("attendance", "??") is None
    assert p.settings["page_size"] == 500
    assert p.reverse("attendance")["О"] == "ОПЗ"
    with pytest.raises(ConfigError, match="no code table"):
        p.table("absent")


def test_missing_shipped_profile() -> None:
    with pytest.raises(ConfigError, match="no mapping profile"):
        load_profile("no-such-system")
