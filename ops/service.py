"""A worker process: the queue's consumer (huey, ``workers`` threads) running the
:class:`~ops.worker.Executor`, and the :class:`~ops.scheduler.Scheduler` beside it.

SIGTERM (and SIGINT) stop it cleanly: nothing new is taken from the queue, a running pull stops
at its next page with its checkpoint kept and goes back on the queue, a running push finishes;
then the process exits 0. Messages still queued stay in the queue (the embedded SQLite file, or
Redis) and run once when a worker starts again.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

import structlog
from huey.consumer import Consumer

from ops.locks import holder_id
from ops.queue import JobQueue
from ops.schedule import JobSchedule, ScheduleSettings
from ops.scheduler import Scheduler
from ops.worker import Executor, Outcome, RunJob
from store import JobKey, Store

log = structlog.get_logger("ops.service")


class _Consumer(Consumer):  # type: ignore[misc]
    """huey's consumer, telling the running jobs when a stop signal arrives."""

    def __init__(self, huey: Any, *, stopping: threading.Event, **kwargs: Any) -> None:
        self._stopping = stopping
        super().__init__(huey, **kwargs)
        # Ctrl-C stops as cleanly as SIGTERM (huey would not wait for the running jobs)
        self._signal_actions[signal.SIGINT] = (False, True)

    def _handle_signal(self, signum: int, frame: Any) -> None:
        self._stopping.set()
        super()._handle_signal(signum, frame)


class Worker:
    """One process's consumer and scheduler over ``store`` and a queue made by ``make_queue``
    (given the function that runs a message)."""

    def __init__(
        self,
        store: Store,
        make_queue: Callable[[Callable[[JobKey, str], Outcome]], JobQueue],
        run: RunJob,
        settings: ScheduleSettings,
        schedules: dict[JobKey, JobSchedule],
        *,
        scheduler: bool = True,
    ) -> None:
        self.stopping = threading.Event()
        self.holder = holder_id()
        self.store = store
        self.queue = make_queue(self._execute)
        self.executor = Executor(
            store, run, self.queue.send, settings, schedules.get,
            holder=self.holder, stopping=self.stopping,
        )  # fmt: skip
        self.scheduler = (
            Scheduler(store, self.queue.send, settings, schedules, holder=self.holder)
            if scheduler
            else None
        )

    def _execute(self, key: JobKey, ticket: str) -> Outcome:
        return self.executor(key, ticket)

    def run(self, workers: int = 1) -> None:
        """Until SIGTERM or SIGINT."""
        stop_scheduler = threading.Event()
        thread = None
        if self.scheduler is not None:
            thread = threading.Thread(
                target=self.scheduler.run, args=(stop_scheduler,), name="scheduler", daemon=True
            )
            thread.start()
        consumer = _Consumer(
            self.queue.huey,
            stopping=self.stopping,
            workers=workers,
            periodic=False,
            initial_delay=0.1,
            backoff=1.15,
            max_delay=1.0,
            scheduler_interval=1,
            worker_type="thread",
            graceful_signal="TERM",
        )
        log.info("worker starts", workers=workers, holder=self.holder)
        try:
            consumer.run()
        finally:
            self.stopping.set()
            stop_scheduler.set()
            if thread is not None:
                thread.join(timeout=30)
        log.info("worker stopped", holder=self.holder)
