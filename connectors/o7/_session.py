"""The О7 session: form login, ``sessionid`` cookie, RPC calls with re-login on expiry and retries.

Rules from the contract, enforced here:

* log in only when there is no session, or when a call shows it expired (HTTP 401 or a redirect
  to ``/auth/login``); then log in **once** and repeat the call **once**;
* a refused login (``success: false``: wrong password, account locked) is an
  :class:`~core.errors.AuthError` at once — never retried, so we never lock the account;
* transient faults (HTML 500 page, nightly 503, slow answers, dropped connections) are retried by
  the shared retry policy (capped exponential backoff with jitter, ``Retry-After`` honoured,
  bounded in time); the waits are injectable for tests.

Requests go through the shared transport: a deadline for each whole answer, a cap on its body.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.o7._classify import LOGIN_PATH, Answer, classify
from connectors.transport import (
    RETRIED,
    Action,
    Decision,
    Exchange,
    Limits,
    RetryPolicy,
    error_for,
    where,
)
from core.errors import AuthError, ContractViolation

SYSTEM = "o7"
SESSION_COOKIE = "sessionid"
_LOCK_WORDS = ("locked", "заблокир")

Wait = Callable[..., float]


def login_refusal(message: str) -> str:
    """A plain-words explanation of a refused login for the operator."""
    if any(word in message.casefold() for word in _LOCK_WORDS):
        return (
            "О7 refused the login: account locked for 15 minutes after too many attempts — "
            "wait and check the credentials (the gateway does not retry a refused login)"
        )
    return (
        "О7 refused the login: wrong login or password — check the credentials "
        "(not retried automatically: 5 failures lock the account for 15 minutes)"
    )


class O7Session:
    """RPC calls over one logged-in session of an injected :class:`httpx.Client`."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        login: str,
        password: SecretStr,
        attempts: int = 5,
        max_wait: float = 30.0,
        retry_budget: float = 300.0,
        wait: Wait | None = None,
        sleep: Callable[[float], None] = time.sleep,
        limits: Limits | None = None,
    ) -> None:
        self._client = client
        self._login = login
        self._password = password
        self._exchange = Exchange(client, system=SYSTEM, limits=limits)
        self.policy = RetryPolicy(
            attempts=max(1, attempts),
            budget=retry_budget,
            backoff_initial=0.5,
            backoff_max=max_wait,
            jitter=1.0,
            max_retry_after=max_wait,
            backoff=wait,
            sleep=sleep,
        )
        self._authenticated = False
        #: login requests sent by this session (a refused one is never repeated)
        self.login_requests = 0

    # -- public -------------------------------------------------------------------------------

    def login(self) -> None:
        """Log in now (transient faults retried; a refusal raised at once)."""
        self.policy.call(self._login_once, system=SYSTEM, target=self._where(LOGIN_PATH))

    def call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/{method}`` with ``body``; the answer's JSON object."""
        return self.policy.call(
            lambda: self._call_once(method, body),
            system=SYSTEM,
            target=self._where(f"/api/{method}"),
        )

    @property
    def authenticated(self) -> bool:
        return self._authenticated

    def forget(self) -> None:
        """Drop the session (the next call logs in)."""
        self._authenticated = False
        self._client.cookies.delete(SESSION_COOKIE)

    # -- internals ----------------------------------------------------------------------------

    def _where(self, path: str) -> str:
        return where("POST", str(self._client.base_url).rstrip("/") + path)

    def _post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._exchange.fetch(self._client.build_request("POST", path, **kwargs))

    def _login_once(self) -> None:
        self._client.cookies.delete(SESSION_COOKIE)
        self.login_requests += 1
        response = self._post(
            LOGIN_PATH,
            data={"login_login": self._login, "login_password": self._password.get_secret_value()},
        )
        status = response.status_code
        has_cookie = SESSION_COOKIE in response.cookies or SESSION_COOKIE in self._client.cookies
        if (
            300 <= status < 400
            and has_cookie
            and LOGIN_PATH not in response.headers.get("Location", "")
        ):
            self._authenticated = True
            return
        decision = classify(response)
        if decision.action in RETRIED:
            raise error_for(decision.but(decision.action, f"login: {decision.reason}"), SYSTEM)
        body = decision.payload or {}
        if body.get("success") is False:
            raise AuthError(
                login_refusal(str(body.get("message", ""))), system=SYSTEM, status=status
            )
        if decision.action is not Action.OK or body.get("success") is not True:
            raise ContractViolation(
                f"login answered outside the contract: {decision.message}",
                system=SYSTEM,
                status=status,
            )
        if not has_cookie:
            raise ContractViolation("login succeeded but set no sessionid cookie", system=SYSTEM)
        self._authenticated = True

    def _rpc(self, method: str, body: dict[str, Any]) -> Decision[Answer]:
        return classify(self._post(f"/api/{method}", json=body))

    def _call_once(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if not self._authenticated:
            self._login_once()
        decision = self._rpc(method, body)
        if decision.action is Action.REAUTH:
            self._authenticated = False
            self._login_once()
            decision = self._rpc(method, body)
            if decision.action is Action.REAUTH:
                self._authenticated = False
                raise AuthError(
                    f"{method}: the session was refused again right after a fresh login",
                    system=SYSTEM,
                    status=decision.status,
                )
        if decision.action is Action.OK and decision.payload is not None:
            return decision.payload
        raise error_for(decision, SYSTEM)
