"""``/health`` (the store answers and its schema is the newest) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.responses import json_response
from api.schemas import Health
from api.state import app_state
from core.errors import StoreError


def router() -> APIRouter:
    api = APIRouter(tags=["operations"])

    @api.get(
        "/health",
        response_model=Health,
        responses={503: {"model": Health, "description": "store unreachable or not migrated"}},
        summary="Store reachable and migrations current",
    )
    def health(request: Request) -> Response:
        store = app_state(request).store
        head = store.head()
        try:
            revision = store.revision()
            with store.read() as tx:
                tx.queries.feed_head()
            reachable = True
        except StoreError:
            revision, reachable = None, False
        current = reachable and revision == head
        body = {
            "status": "ok" if current else "unavailable",
            "store": reachable,
            "revision": revision,
            "head": head,
            "migrations_current": current,
        }
        return json_response(body, 200 if current else 503)

    @api.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
        summary="Prometheus metrics",
    )
    def metrics(request: Request) -> Response:
        registry = app_state(request).metrics.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return api
