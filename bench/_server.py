"""A simulator served from its own process, so the measured process counts only its own work."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx


@contextmanager
def served(
    code: str, *args: str, ready: Callable[[str], object], timeout: float = 900
) -> Iterator[str]:
    """Run ``python -c code *args PORT`` and yield its base URL once ``ready(url)`` succeeds."""
    from fixtures.serve import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"simulator ({' '.join(args)}) exited with {proc.returncode}")
            try:
                ready(url)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("simulator did not start in time") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def in_child(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m module *args`` (a measurement in a fresh process, so its peak memory is
    its own) and return the JSON object on its last line of output."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {args[0] if args else ''} failed: {proc.stderr[-800:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result
