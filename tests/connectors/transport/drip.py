"""A real slow server on 127.0.0.1: it answers every request with ``head`` at once and then
``body`` one byte every ``pause`` seconds — a dripping server httpx's per-read timeouts never
catch."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType


class DripServer:
    def __init__(self, body: bytes, *, head: bytes = b"", pause: float = 0.2) -> None:
        self.head = head
        self.body = body
        self.pause = pause
        #: bytes of ``body`` sent before the client went away (or all of it)
        self.dripped = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> DripServer:
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _serve(self) -> None:
        self._listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._answer, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            seen = b""
            try:
                while b"\r\n\r\n" not in seen:
                    data = conn.recv(65536)
                    if not data:
                        return
                    seen += data
                conn.sendall(self.head)
                for i in range(len(self.body)):
                    if self._stop.wait(self.pause):
                        return
                    conn.sendall(self.body[i : i + 1])
                    self.dripped += 1
            except OSError:  # the client gave up: what it was sent is counted
                return


def http_head(status: str = "200 OK", length: int = 1000, ctype: str = "application/json") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {length}\r\n\r\n"
    ).encode("ascii")


def clock() -> float:
    return time.monotonic()
