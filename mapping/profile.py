"""Per-system mapping profiles: code tables and settings as data a deployment can override.

A profile is a TOML file shipped in ``mapping/profiles/<system>.toml``. A deployment points
``[schools.systems.<x>] profile = "…"`` at its own TOML file; tables in that file are merged
over the shipped ones key by key, so a site changes one code without copying the rest.

Layout::

    system = "es2"
    timezone = "+07:00"           # or an IANA zone name ("Europe/Moscow")

    [codes.attendance]             # wire code → canonical code
    "ОП" = "О"

    [codes.work_type]              # wire code → canonical name
    "КР" = "Контрольная работа"

Top-level ``written_work = ["Контрольная работа", …]`` names the written work types (the ones
whose marks have a deadline, see :mod:`sync.rules`).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from core.errors import ConfigError

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class Profile:
    system: str
    timezone: dt.tzinfo
    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> Mapping[str, str]:
        try:
            return self.codes[name]
        except KeyError:
            raise ConfigError(
                f"profile has no code table {name!r}", key=f"{self.system}.codes"
            ) from None

    def code(self, table: str, wire_value: str) -> str | None:
        """The canonical value for ``wire_value``, or ``None`` when the table does not know it."""
        return self.table(table).get(wire_value)

    @property
    def written_work(self) -> tuple[str, ...] | None:
        """The canonical work types this profile calls written work (``written_work = [...]``),
        or ``None`` when it says nothing."""
        names = self.settings.get("written_work")
        if names is None:
            return None
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise ConfigError(
                "'written_work' must be a list of work type names",
                key=f"{self.system}.written_work",
            )
        return tuple(names)

    def reverse(self, table: str) -> dict[str, str]:
        """Canonical → wire; the first wire code listed for a canonical value wins."""
        out: dict[str, str] = {}
        for wire, canonical in self.table(table).items():
            out.setdefault(canonical, wire)
        return out


def parse_timezone(value: str) -> dt.tzinfo:
    m = _OFFSET.match(value)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return dt.timezone(sign * dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    try:
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {value!r}", key="timezone") from None


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def shipped_profile(system: str) -> Traversable:
    """The profile file the gateway ships for one of its own systems."""
    return resources.files("mapping").joinpath("profiles", f"{system}.toml")


def shipped_profile_data(system: str, shipped: Traversable | None = None) -> dict[str, Any]:
    try:
        text = (shipped or shipped_profile(system)).read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no mapping profile is shipped for {system!r}", key="profile") from None
    return tomllib.loads(text)


def load_profile(
    system: str, override: Path | None = None, *, shipped: Traversable | None = None
) -> Profile:
    """The profile of ``system`` — the file ``shipped`` with it (by default the gateway's own,
    ``mapping/profiles/<system>.toml``) — with ``override`` merged over it."""
    data = shipped_profile_data(system, shipped)
    if override is not None:
        try:
            data = _merge(data, tomllib.loads(override.read_text("utf-8")))
        except OSError as exc:
            raise ConfigError(
                f"cannot read profile {override}: {exc.strerror}", key="profile"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"profile {override} is not valid TOML: {exc}", key="profile"
            ) from None
    codes = data.get("codes", {})
    if not isinstance(codes, dict) or not all(isinstance(t, dict) for t in codes.values()):
        raise ConfigError("'codes' must be a table of tables", key=f"{system}.codes")
    settings = {k: v for k, v in data.items() if k not in {"system", "timezone", "codes"}}
    return Profile(
        system=system,
        timezone=parse_timezone(str(data.get("timezone", "UTC"))),
        codes={name: {str(k): str(v) for k, v in table.items()} for name, table in codes.items()},
        settings=settings,
    )
