"""The job queue on huey: ``SqliteHuey`` in a file beside the store (``schoolgate run``, nothing
to set up) or ``RedisHuey`` shared by many machines (``schoolgate worker``). One task, ``job``,
carries a job key and the ticket that lets it run (:mod:`store.jobs`); messages are only the
transport — what waits, runs, retries and who holds a lock is kept in the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from store import JobKey

if TYPE_CHECKING:  # huey (and redis) load when a queue is made, not with the settings
    from huey.api import Huey

TASK = "schoolgate.job"


class QueueSettings(BaseModel):
    """The ``[queue]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``redis://host:port/db`` for ``schoolgate worker`` (many machines); unset: the embedded
    #: SQLite queue of ``schoolgate run``
    url: str | None = None
    #: the embedded queue's file (default: beside the SQLite store, ``<store>.queue``)
    path: Path | None = None
    #: the queue's name: workers of one region share it (keys in Redis are prefixed by it)
    name: str = Field(default="schoolgate", pattern=r"^[A-Za-z0-9_.:-]+$")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("queue url must be redis://host:port/db (or rediss://, unix://)")
        return v


def embedded_path(settings: QueueSettings, store_url: str) -> Path:
    """Where the embedded queue lives: ``[queue] path``, else beside a SQLite store's file,
    else ``schoolgate-queue.db`` here."""
    if settings.path is not None:
        return settings.path
    prefix = "sqlite:///"
    if store_url.startswith(prefix) and ":memory:" not in store_url:
        return Path(store_url[len(prefix) :].split("?", 1)[0] + ".queue")
    return Path("schoolgate-queue.db")


JobFn = Callable[[JobKey, str], Any]


class JobQueue:
    """A huey instance with the job task registered; ``send`` puts a message on it."""

    def __init__(self, huey: Huey, execute: JobFn) -> None:
        self.huey = huey

        def job(school_id: str, system: str, direction: str, ticket: str) -> None:
            execute(JobKey(school_id, system, direction), ticket)

        self._task = huey.task(name=TASK)(job)

    @classmethod
    def embedded(cls, path: Path, execute: JobFn, name: str = "schoolgate") -> JobQueue:
        path.parent.mkdir(parents=True, exist_ok=True)
        from huey import SqliteHuey

        return cls(SqliteHuey(name, filename=str(path), results=False, utc=True), execute)

    @classmethod
    def redis(cls, url: str, execute: JobFn, name: str = "schoolgate") -> JobQueue:
        from huey import RedisHuey

        return cls(RedisHuey(name, url=url, results=False, utc=True), execute)

    def send(self, key: JobKey, ticket: str, at: dt.datetime | None = None) -> None:
        """Put the job's message on the queue, to run now or from ``at`` (huey keeps delayed
        messages in its schedule, which survives a restart)."""
        args = (key.school_id, key.system, key.direction, ticket)
        if at is not None and at > dt.datetime.now(dt.UTC):
            self._task.schedule(args=args, eta=at.astimezone(dt.UTC).replace(tzinfo=None))
        else:
            self._task(*args)

    def depth(self) -> tuple[int, int]:
        """Messages waiting now, and delayed ones (retries, blackouts)."""
        return int(self.huey.pending_count()), int(self.huey.scheduled_count())

    def flush(self) -> None:
        self.huey.flush()
