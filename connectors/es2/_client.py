"""The ES2 HTTP client: one request → one :class:`Envelope`, with auth and retries.

Retries happen only on transient faults (:class:`TransientError`: resets, 5xx, 429, ``busy`` /
``internal`` even under HTTP 200); tenacity waits ``Retry-After`` when the server gave one, else a
capped exponential backoff with jitter. Auth and validation failures are never retried. A 401
triggers one shared token refresh and one repeat; a second 401 in a row is an :class:`AuthError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from connectors.es2._auth import TokenManager
from connectors.es2._classify import Action, Decision, classify
from connectors.es2._envelope import Envelope
from core.errors import (
    AuthError,
    ContractViolation,
    CursorExpired,
    RateLimited,
    RemoteRejected,
    TransientError,
)

SYSTEM = "es2"
API = "/api/v2"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    initial: float = 0.5
    maximum: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0


class ES2Client:
    def __init__(
        self,
        client: httpx.Client,
        *,
        credentials: Mapping[str, str],
        school: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = client
        self.school = school
        self._credentials = dict(credentials)
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self.tokens = TokenManager(self._fetch_token)

    # -- public -----------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Envelope:
        return self._with_retries(lambda: self._authed("GET", path, params=params))

    def post(self, path: str, body: Any, headers: Mapping[str, str] | None = None) -> Envelope:
        return self._with_retries(lambda: self._authed("POST", path, json=body, headers=headers))

    def school_path(self, suffix: str) -> str:
        return f"{API}/schools/{self.school}/{suffix}"

    # -- retries ----------------------------------------------------------------------------
    def _with_retries(self, call: Callable[[], Envelope]) -> Envelope:
        retrying = Retrying(
            stop=stop_after_attempt(max(1, self.policy.attempts)),
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            sleep=self._sleep,
            reraise=True,
        )
        result: Envelope = retrying(call)
        return result

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        if isinstance(after, (int, float)):
            return min(float(after), self.policy.max_retry_after)
        backoff = wait_exponential_jitter(
            multiplier=self.policy.initial, max=self.policy.maximum, jitter=self.policy.jitter
        )
        return float(backoff(state))

    # -- one attempt --------------------------------------------------------------------------
    def _authed(self, method: str, path: str, **kwargs: Any) -> Envelope:
        token = self.tokens.current()
        decision = self._send(method, path, token, **kwargs)
        if decision.action is Action.REAUTH:
            token = self.tokens.refresh(token)
            decision = self._send(method, path, token, **kwargs)
            if decision.action is Action.REAUTH:
                raise AuthError(
                    f"{decision.reason} again right after a fresh token (second 401 in a row)",
                    system=SYSTEM,
                    status=decision.status,
                )
        return _act(decision)

    def _send(self, method: str, path: str, token: str, **kwargs: Any) -> Decision:
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Authorization"] = f"Bearer {token}"
        try:
            resp = self.http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            return classify(exc)
        return classify(resp)

    def _fetch_token(self) -> str:
        body = {
            "client_id": self._credentials.get("client_id", ""),
            "client_secret": self._credentials.get("client_secret", ""),
            "school_id": _school_value(self.school),
        }

        def once() -> Envelope:
            try:
                decision = classify(self.http.post(f"{API}/auth/token", json=body))
            except httpx.TransportError as exc:
                decision = classify(exc)
            if decision.action is Action.REAUTH:  # cannot happen on /auth/token, but be safe
                raise AuthError(decision.reason, system=SYSTEM, status=decision.status)
            return _act(decision)

        env = self._with_retries(once)
        data = env.data
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise ContractViolation("token response carries no access_token", system=SYSTEM)
        return token


def _school_value(school: str) -> int | str:
    return int(school) if school.isdigit() else school


def _act(decision: Decision) -> Envelope:
    """The envelope of a good answer, or the error the decision calls for."""
    action = decision.action
    if action is Action.OK:
        assert decision.envelope is not None
        return decision.envelope
    if action is Action.RETRY_AFTER:
        raise RateLimited(
            decision.reason, system=SYSTEM, status=decision.status, retry_after=decision.retry_after
        )
    if action is Action.RETRY:
        raise TransientError(decision.reason, system=SYSTEM, status=decision.status)
    if action in (Action.FAIL_AUTH, Action.REAUTH):
        raise AuthError(decision.reason, system=SYSTEM, status=decision.status)
    if action is Action.CURSOR_EXPIRED:
        raise CursorExpired(decision.reason, system=SYSTEM, status=decision.status)
    if action is Action.REJECTED:
        raise RemoteRejected(decision.reason, system=SYSTEM, status=decision.status)
    raise ContractViolation(decision.reason, system=SYSTEM, status=decision.status)
