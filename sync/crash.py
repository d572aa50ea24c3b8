"""Crash points for the crash tests: ``SCHOOLGATE_CRASHPOINT=name[:n]`` kills the process with
SIGKILL the n-th time (default the first) execution passes the named point. Unset, it costs one
dictionary lookup."""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def crashpoint(name: str) -> None:
    spec = os.environ.get("SCHOOLGATE_CRASHPOINT")
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
