"""The ES2 HTTP client: one request → one :class:`Envelope`, with auth and retries.

Requests go through the shared transport (:mod:`connectors.transport`): a deadline for the whole
answer, a cap on its body, and the shared retry policy, which retries only transient faults
(resets, 5xx, 429, ``busy`` / ``internal`` even under HTTP 200), waiting ``Retry-After`` when the
server gave one. Auth and validation failures are never retried. A 401 triggers one shared token
refresh and one repeat; a second 401 in a row is an :class:`AuthError`. A token is fetched inside
the attempt that needs it, so a transient fault of ``/auth/token`` is retried with that request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from connectors.es2._auth import TokenManager
from connectors.es2._classify import classify
from connectors.es2._envelope import Envelope
from connectors.transport import (
    Action,
    Decision,
    Exchange,
    Limits,
    RetryPolicy,
    error_for,
    where,
)
from core.errors import AuthError, ContractViolation

SYSTEM = "es2"
API = "/api/v2"


class ES2Client:
    def __init__(
        self,
        client: httpx.Client,
        *,
        credentials: Mapping[str, str],
        school: str,
        policy: RetryPolicy | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.http = client
        self.school = school
        self._credentials = dict(credentials)
        self.policy = policy or RetryPolicy()
        self.exchange = Exchange(client, system=SYSTEM, limits=limits)
        self.tokens = TokenManager(self._fetch_token)

    # -- public -----------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Envelope:
        return self._with_retries("GET", path, lambda: self._authed("GET", path, params=params))

    def post(self, path: str, body: Any, headers: Mapping[str, str] | None = None) -> Envelope:
        return self._with_retries(
            "POST", path, lambda: self._authed("POST", path, json=body, headers=headers)
        )

    def school_path(self, suffix: str) -> str:
        return f"{API}/schools/{self.school}/{suffix}"

    # -- retries ----------------------------------------------------------------------------
    def _with_retries(self, method: str, path: str, call: Callable[[], Envelope]) -> Envelope:
        url = str(self.http.base_url).rstrip("/") + "/" + path.lstrip("/")
        return self.policy.call(call, system=SYSTEM, target=where(method, url))

    # -- one attempt --------------------------------------------------------------------------
    def _authed(self, method: str, path: str, **kwargs: Any) -> Envelope:
        token = self.tokens.current()
        decision = self._send(method, path, token, **kwargs)
        if decision.action is Action.REAUTH:
            token = self.tokens.refresh(token)
            decision = self._send(method, path, token, **kwargs)
            if decision.action is Action.REAUTH:
                raise AuthError(
                    f"{decision.message} again right after a fresh token (second 401 in a row)",
                    system=SYSTEM,
                    status=decision.status,
                )
        return _act(decision)

    def _send(self, method: str, path: str, token: str, **kwargs: Any) -> Decision[Envelope]:
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Authorization"] = f"Bearer {token}"
        request = self.http.build_request(method, path, headers=headers, **kwargs)
        return classify(self.exchange.fetch(request))

    def _fetch_token(self) -> str:
        body = {
            "client_id": self._credentials.get("client_id", ""),
            "client_secret": self._credentials.get("client_secret", ""),
            "school_id": _school_value(self.school),
        }
        request = self.http.build_request("POST", f"{API}/auth/token", json=body)
        env = _act(classify(self.exchange.fetch(request)))
        data = env.data
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise ContractViolation("token response carries no access_token", system=SYSTEM)
        return token


def _school_value(school: str) -> int | str:
    return int(school) if school.isdigit() else school


def _act(decision: Decision[Envelope]) -> Envelope:
    """The envelope of a good answer, or the error the decision calls for."""
    if decision.action is Action.OK and decision.payload is not None:
        return decision.payload
    if decision.action is Action.OK:
        raise ContractViolation("a good answer without an envelope", system=SYSTEM)
    raise error_for(decision, SYSTEM)
