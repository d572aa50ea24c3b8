"""Who is asking: the bearer token looked up by its hash on every request (a revoked token is
refused at once), its rate bucket, and what its grants allow."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import ApiProblem, forbidden, unauthorized
from api.state import AppState, app_state
from api.tokens import PREFIX, hash_secret
from store import Token

bearer = HTTPBearer(auto_error=False, description="an access token from `schoolgate tokens create`")


@dataclass(frozen=True)
class Principal:
    token: Token

    @property
    def personal(self) -> bool:
        return "personal" in self.token.scopes

    @property
    def actor(self) -> str:
        return f"api:{self.token.name}"

    def schools_for(self, school: str | None) -> tuple[str, ...]:
        """The schools a request reads: the one it names (if the token has it), else all of
        the token's."""
        if school is None:
            return self.token.schools
        if school not in self.token.schools:
            raise forbidden("this token is not for that school")
        return (school,)


def bearer_secret(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The token a request carries, if it has the shape of one (no store work yet)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("a bearer token is required")
    secret = credentials.credentials
    if not secret.startswith(PREFIX) or len(secret) > 200:
        raise unauthorized("the token is not valid")
    return secret


def authorize(state: AppState, secret: str, scope: str) -> Principal:
    """The token looked up by its hash (every request: a revoked token is refused at once), its
    rate bucket, and the scope asked for."""
    with state.store.read() as tx:
        token = tx.tokens.by_hash(hash_secret(secret))
    if token is None or token.revoked:
        raise unauthorized("the token is not valid or was revoked")
    wait = state.limiter.take(token.id, token.rate, token.burst)
    if wait is not None:
        state.metrics.rate_limited.labels(token.name).inc()
        raise ApiProblem(
            429,
            "rate_limited",
            "too many requests for this token",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    if scope not in token.scopes:
        raise forbidden(f"this token lacks the {scope!r} scope")
    return Principal(token)


def require(scope: str) -> Callable[..., Principal]:
    """A dependency: the caller, who must hold ``scope`` (one trip to a worker thread)."""

    def check(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)
    ) -> Principal:
        return authorize(app_state(request), bearer_secret(credentials), scope)

    return check
