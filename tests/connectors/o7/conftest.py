"""A scriptable О7 wire for respx tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from connectors.o7 import O7Session

BASE = "http://o7.test"


@dataclass
class Wire:
    router: respx.MockRouter
    logins: list[dict[str, str]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    login_answers: list[httpx.Response] = field(default_factory=list)
    #: method → answers served first, before ``handlers``
    scripted: dict[str, list[httpx.Response]] = field(default_factory=dict)
    handlers: dict[str, Callable[[dict[str, Any]], Any]] = field(default_factory=dict)

    def login_ok(self) -> httpx.Response:
        return httpx.Response(
            200,
            json={"success": True, "redirect": "/"},
            headers={"Set-Cookie": "sessionid=s1; Path=/"},
        )

    def _login(self, request: httpx.Request) -> httpx.Response:
        form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
        self.logins.append(form)
        if self.login_answers:
            return self.login_answers.pop(0)
        return self.login_ok()

    def _api(self, request: httpx.Request) -> httpx.Response:
        method = request.url.path.removeprefix("/api/")
        body = json.loads(request.content)
        self.calls.append((method, body))
        if self.scripted.get(method):
            return self.scripted[method].pop(0)
        handler = self.handlers.get(method)
        if handler is None:
            return httpx.Response(404)
        return httpx.Response(200, json=handler(body))

    def methods(self) -> list[str]:
        return [m for m, _ in self.calls]


@pytest.fixture
def wire() -> Iterator[Wire]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        w = Wire(router)
        router.post("/auth/login").mock(side_effect=w._login)
        router.route(method="POST", path__startswith="/api/").mock(side_effect=w._api)
        yield w


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=BASE) as c:
        yield c


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def session(client: httpx.Client, sleeps: list[float]) -> O7Session:
    return O7Session(
        client,
        login="teacher1",
        password=SecretStr("pw"),
        attempts=4,
        wait=lambda _s: 0.25,
        sleep=sleeps.append,
    )


def html_500() -> httpx.Response:
    return httpx.Response(
        500, text="<html><body>Internal error</body></html>", headers={"Content-Type": "text/html"}
    )
