"""What every request of one server shares: the store, the settings, rate buckets, metrics."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from api.metrics import ApiMetrics
from api.ratelimit import RateLimiter
from api.settings import ApiSettings
from store import Store


@dataclass
class AppState:
    store: Store
    settings: ApiSettings
    limiter: RateLimiter
    metrics: ApiMetrics


def app_state(request: Request) -> AppState:
    found: AppState = request.app.state.schoolgate
    return found
