"""The О7 session: form login, ``sessionid`` cookie, RPC calls with re-login on expiry and retries.

Rules from the contract, enforced here:

* log in only when there is no session, or when a call shows it expired (HTTP 401 or a redirect
  to ``/auth/login``); then log in **once** and repeat the call **once**;
* a refused login (``success: false``: wrong password, account locked) is an
  :class:`~core.errors.AuthError` at once — never retried, so we never lock the account;
* transient faults (HTML 500 page, nightly 503, slow answers, dropped connections) are retried by
  tenacity with capped exponential backoff and jitter; the waits are injectable for tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import SecretStr
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from connectors.o7._classify import (
    LOGIN_PATH,
    Action,
    Verdict,
    classify_exception,
    classify_response,
)
from core.errors import (
    AuthError,
    ContractViolation,
    RemoteRejected,
    TransientError,
)

SYSTEM = "o7"
SESSION_COOKIE = "sessionid"
_LOCK_WORDS = ("locked", "заблокир")

Wait = Callable[[RetryCallState], float]


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
        wait: Wait | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._login = login
        self._password = password
        self._attempts = max(1, attempts)
        self._max_wait = max_wait
        self._backoff: Wait = wait or wait_exponential_jitter(
            multiplier=0.5, max=max_wait, jitter=1.0
        )
        self._sleep = sleep
        self._authenticated = False
        #: login requests sent by this session (a refused one is never repeated)
        self.login_requests = 0

    # -- public -------------------------------------------------------------------------------

    def login(self) -> None:
        """Log in now (transient faults retried; a refusal raised at once)."""
        self._retrying()(self._login_once)

    def call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/{method}`` with ``body``; the answer's JSON object."""
        result: dict[str, Any] = self._retrying()(self._call_once, method, body)
        return result

    @property
    def authenticated(self) -> bool:
        return self._authenticated

    def forget(self) -> None:
        """Drop the session (the next call logs in)."""
        self._authenticated = False
        self._client.cookies.delete(SESSION_COOKIE)

    # -- internals ----------------------------------------------------------------------------

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            sleep=self._sleep,
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        base = self._backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after", None) or 0.0
        return float(min(max(base, hint), self._max_wait))

    def _post(self, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.post(path, follow_redirects=False, **kwargs)
        except httpx.HTTPError as exc:
            verdict = classify_exception(exc)
            raise TransientError(verdict.reason, system=SYSTEM) from exc

    def _login_once(self) -> None:
        self._client.cookies.delete(SESSION_COOKIE)
        self.login_requests += 1
        response = self._post(
            LOGIN_PATH,
            data={"login_login": self._login, "login_password": self._password.get_secret_value()},
        )
        status = response.status_code
        if status >= 500 or status == 429:
            raise TransientError(f"login answered HTTP {status}", system=SYSTEM, status=status)
        has_cookie = SESSION_COOKIE in response.cookies or SESSION_COOKIE in self._client.cookies
        if (
            300 <= status < 400
            and has_cookie
            and LOGIN_PATH not in response.headers.get("Location", "")
        ):
            self._authenticated = True
            return
        verdict = classify_response(response)
        if verdict.action is Action.RETRY:
            raise TransientError(f"login: {verdict.reason}", system=SYSTEM, status=status)
        body = verdict.body or {}
        if body.get("success") is False:
            raise AuthError(
                login_refusal(str(body.get("message", ""))), system=SYSTEM, status=status
            )
        if verdict.action is not Action.OK or body.get("success") is not True:
            raise ContractViolation(
                f"login answered outside the contract: {verdict.reason}",
                system=SYSTEM,
                status=status,
            )
        if not has_cookie:
            raise ContractViolation("login succeeded but set no sessionid cookie", system=SYSTEM)
        self._authenticated = True

    def _rpc(self, method: str, body: dict[str, Any]) -> tuple[Verdict, int]:
        response = self._post(f"/api/{method}", json=body)
        return classify_response(response), response.status_code

    def _call_once(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if not self._authenticated:
            self._login_once()
        verdict, status = self._rpc(method, body)
        if verdict.action is Action.RELOGIN:
            self._authenticated = False
            self._login_once()
            verdict, status = self._rpc(method, body)
            if verdict.action is Action.RELOGIN:
                self._authenticated = False
                raise AuthError(
                    f"{method}: the session was refused again right after a fresh login",
                    system=SYSTEM,
                    status=status,
                )
        if verdict.action is Action.OK:
            assert verdict.body is not None
            return verdict.body
        message = f"{method}: {verdict.reason}"
        if verdict.action is Action.RETRY:
            raise TransientError(
                message, system=SYSTEM, status=status, retry_after=verdict.retry_after
            )
        if verdict.action is Action.REJECT:
            raise RemoteRejected(message, system=SYSTEM, status=status)
        raise ContractViolation(message, system=SYSTEM, status=status)
