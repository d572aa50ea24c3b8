"""The gateway's configuration: one TOML file, validated by pydantic.

Secrets are never required inline: a credential is a reference, ``{ env = "VAR" }`` or
``{ file = "/run/secrets/x" }``, resolved only when a connector is built. An invalid file gives
one :class:`~core.errors.ConfigError` naming the key and the problem.

Example::

    [store]
    url = "sqlite:///schoolgate.db"

    [[schools]]
    id = "sch42"
    name = "МБОУ СОШ № 42"
    timezone = "Asia/Novokuznetsk"

    [schools.systems.es2]
    base_url = "http://127.0.0.1:8701"
    remote_school = "42"
    credentials = { client_id = { env = "ES2_ID" }, client_secret = { file = "/run/secrets/es2" } }
    entities = { marks = { direction = "both", conflict = "manual" }, pupils = { direction = "pull" } }
"""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from connectors.base import ConnectorSettings
from core.entities import Entity
from core.errors import ConfigError
from ops.queue import QueueSettings
from ops.schedule import ScheduleSettings
from reports.control.settings import ControlSettings
from sync.jobs import SystemSetup
from sync.policy import EntityPolicy, SyncSettings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Strict):
    """Where a secret lives: an environment variable or a file. Never its value."""

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' or 'file'")
        return self

    def resolve(self, key: str = "credential") -> SecretStr:
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise ConfigError(f"environment variable {self.env} is not set", key=key)
            return SecretStr(value)
        assert self.file is not None
        try:
            return SecretStr(self.file.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ConfigError(
                f"cannot read secret file {self.file}: {exc.strerror}", key=key
            ) from None
        except UnicodeDecodeError:
            raise ConfigError(f"secret file {self.file} is not UTF-8 text", key=key) from None

    def __repr__(self) -> str:  # never a value, only where it is
        return f"SecretRef(env={self.env!r})" if self.env else f"SecretRef(file={str(self.file)!r})"


class SystemConfig(_Strict):
    """One external system a school talks to."""

    connector: str | None = None  # system plugin name; defaults to the table key (es2, asiou, o7)
    base_url: Annotated[str, Field(pattern=r"^https?://")]
    remote_school: str = Field(min_length=1, description="the school's id or code in that system")
    credentials: dict[str, SecretRef] = Field(default_factory=dict)
    #: seconds for one connect, read or write (a finite number above 0)
    timeout: float = Field(default=30.0, gt=0, le=3600, allow_inf_nan=False)
    #: attempts after the first for a request that failed transiently
    retries: int = Field(default=5, ge=0, le=20)
    #: seconds retrying one request may take in all, waits included
    retry_budget: float = Field(default=300.0, gt=0, le=86_400, allow_inf_nan=False)
    #: seconds one request may wait on the server, its whole answer included (a server that
    #: drips bytes is cut off); default: the connector's (ES2, О7 120 s; АСИОУ 1,800 s)
    request_deadline: float | None = Field(default=None, gt=0, le=86_400, allow_inf_nan=False)
    #: the largest answer body accepted, in MB; default: the connector's (ES2, О7 32 MB per
    #: JSON answer; АСИОУ 1,024 MB per export package)
    max_body_mb: float | None = Field(default=None, gt=0, le=65_536, allow_inf_nan=False)
    profile: Path | None = Field(
        default=None, description="a TOML file overriding the mapping profile"
    )
    options: dict[str, Any] = Field(default_factory=dict)
    entities: dict[Entity, EntityPolicy] = Field(default_factory=dict)
    schedule: str | None = Field(default=None, description="cron expression for scheduled sync")

    @field_validator("base_url")
    @classmethod
    def _no_secrets_in_url(cls, v: str) -> str:
        if _userinfo(v):
            raise ValueError(
                "the URL holds credentials (user:password@): give them as secret references, "
                'e.g. credentials = { login = { env = "…" }, password = { env = "…" } } '
                '(or { file = "/run/secrets/…" })'
            )
        secret = sorted(_secret_params(v))
        if secret:
            raise ValueError(
                f"the URL carries the secret parameter(s) {', '.join(secret)}: give secrets "
                'as credentials = { name = { env = "…" } } (or { file = "/run/secrets/…" })'
            )
        return v

    def policy(self, entity: Entity) -> EntityPolicy:
        return self.entities.get(entity, EntityPolicy())

    def connector_settings(self, key: str) -> ConnectorSettings:
        """What the connector of ``[schools.systems.<key>]`` is given, its secrets read now."""
        return ConnectorSettings(
            system=key,
            base_url=self.base_url,
            remote_school=self.remote_school,
            credentials={
                name: ref.resolve(f"systems.{key}.credentials.{name}")
                for name, ref in self.credentials.items()
            },
            timeout=self.timeout,
            retries=self.retries,
            retry_budget=self.retry_budget,
            request_deadline=self.request_deadline,
            max_body_mb=self.max_body_mb,
            options=dict(self.options),
        )


class SchoolConfig(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    name: str = Field(min_length=1)
    timezone: str = "Europe/Moscow"
    systems: dict[str, SystemConfig] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    def push_targets(self) -> dict[Entity, tuple[str, ...]]:
        """Per entity, the school's systems that take pushes of it."""
        out: dict[Entity, list[str]] = {}
        for key, system in self.systems.items():
            for entity, policy in system.entities.items():
                if policy.direction in ("push", "both"):
                    out.setdefault(entity, []).append(key)
        return {e: tuple(keys) for e, keys in out.items()}

    def setup(self, key: str) -> SystemSetup:
        """The job setup of the school's system ``key``."""
        system = self.systems.get(key)
        if system is None:
            raise ConfigError(f"school {self.id} has no system {key!r}", key="systems")
        return SystemSetup(
            school_id=self.id,
            system=key,
            connector=system.connector_settings(key),
            plugin=system.connector or key,
            timezone=self.timezone,
            policies=dict(system.entities),
            push_targets=self.push_targets(),
            profile_override=system.profile,
        )


class StoreConfig(_Strict):
    url: str = "sqlite:///schoolgate.db"
    #: the database password, never inside ``url``: ``{ env = "…" }`` or ``{ file = "…" }``
    password: SecretRef | None = None
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("sqlite", "postgresql")):
            raise ValueError("store url must be sqlite:///… or postgresql+psycopg://…")
        if _has_password(v):
            raise ValueError(
                "the store URL holds a password: give it as store.password = "
                '{ env = "VAR" } or { file = "/run/secrets/…" } instead'
            )
        return v

    def secret(self) -> str | None:
        """The database password, read now (``None`` when none is configured)."""
        return (
            None
            if self.password is None
            else self.password.resolve("store.password").get_secret_value()
        )


class BackupConfig(_Strict):
    """The ``[backup]`` table."""

    #: the folder ``schoolgate backup`` writes to when no ``--out`` is given, and whose backups
    #: the web console lists
    dir: Path | None = None


class LogConfig(_Strict):
    format: Literal["json", "console"] = "json"
    level: Literal["debug", "info", "warning", "error"] = "info"


class GatewayConfig(_Strict):
    store: StoreConfig = Field(default_factory=StoreConfig)
    log: LogConfig = Field(default_factory=LogConfig)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    #: norms and thresholds of the journal-control report (``schoolgate control``)
    control: ControlSettings = Field(default_factory=ControlSettings)
    schools: list[SchoolConfig] = Field(default_factory=list)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    backup: BackupConfig = Field(default_factory=BackupConfig)

    @model_validator(mode="after")
    def _unique(self) -> GatewayConfig:
        ids = [s.id for s in self.schools]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"school ids repeat: {', '.join(dupes)}")
        for school_id, systems in self.schedule.schools.items():
            if school_id not in ids:
                raise ValueError(f"schedule.schools names no configured school: {school_id!r}")
            school = self.school(school_id)
            for key in systems:
                if key not in school.systems:
                    raise ValueError(f"schedule.schools.{school_id}: the school has no {key!r}")
        return self

    def school(self, school_id: str) -> SchoolConfig:
        for s in self.schools:
            if s.id == school_id:
                return s
        raise ConfigError(f"no school {school_id!r} in the configuration", key="schools")

    def setups(self, school: str | None = None, system: str | None = None) -> list[SystemSetup]:
        """The job setups of every configured (school, system), or of the ones named."""
        schools = [self.school(school)] if school else self.schools
        return [sc.setup(key) for sc in schools for key in ([system] if system else sc.systems)]


#: query parameters that carry a secret, never allowed in a configured URL
_SECRET_PARAMS = frozenset(
    {"password", "passwd", "pwd", "secret", "client_secret", "token", "access_token", "api_key",
     "apikey", "key", "sig", "signature", "session", "sessionid", "sid", "auth"}
)  # fmt: skip


def _userinfo(url: str) -> bool:
    """Whether ``scheme://user[:password]@host…`` names a user (not shown in any message)."""
    _, sep, rest = url.partition("://")
    netloc = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0] if sep else ""
    return "@" in netloc


def _secret_params(url: str) -> set[str]:
    """The names of secret query parameters in ``url`` (their values are never shown)."""
    query = url.partition("?")[2].partition("#")[0]
    names = {pair.partition("=")[0].strip().lower() for pair in query.split("&") if pair}
    return names & _SECRET_PARAMS


def _has_password(url: str) -> bool:
    """Whether ``scheme://user:password@host…`` carries a password (not shown in any message)."""
    _, sep, rest = url.partition("://")
    netloc = rest.split("/", 1)[0] if sep else ""
    userinfo, at, _ = netloc.rpartition("@")
    return bool(at) and ":" in userinfo


def parse_config(data: dict[str, Any], *, source: str = "configuration") -> GatewayConfig:
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        key = _key_path(data, err["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{msg}{more} [{source}]", key=key) from None


def load_config(path: str | Path) -> GatewayConfig:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {p}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p} is not valid TOML: {exc}") from None
    return parse_config(data, source=str(p))


def _key_path(data: Any, loc: tuple[int | str, ...]) -> str:
    """``schools[0].systems.es2.base_url`` — school entries named by their id when they have one."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node) and isinstance(node[item], dict):
                sid = node[item].get("id")
                label = f"[{sid}]" if isinstance(sid, str) else label
            parts.append(label)
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)
