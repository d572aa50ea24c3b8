"""Batch writes: ≤ 500 items per batch, an ``Idempotency-Key`` per batch, per-item results.

The key is derived from the batch's content (entity, each item's key, operation and payload), so
a batch retried after a timeout reuses it and the remote answers with its first answer, while a
changed payload under the same item key is a new batch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

from connectors.base import PushItem, PushResult, PushStatus
from core.entities import Entity
from core.errors import ContractViolation

SYSTEM = "es2"
MAX_BATCH = 500

PUSH_PATHS: dict[Entity, str] = {
    Entity.MARKS: "marks:batch",
    Entity.ATTENDANCE: "attendance:batch",
    Entity.FINAL_MARKS: "controlmarks:batch",
    Entity.LESSONS: "lessons:batch",
    Entity.PUPILS: "pupils:batch",
}

_STATUSES: frozenset[str] = frozenset({"created", "updated", "duplicate", "rejected", "deleted"})


def batches(items: Sequence[PushItem], size: int = MAX_BATCH) -> Iterator[Sequence[PushItem]]:
    size = max(1, min(size, MAX_BATCH))
    for start in range(0, len(items), size):
        yield items[start : start + size]


def wire_item(item: PushItem) -> dict[str, Any]:
    body: dict[str, Any] = {k: v for k, v in item.payload.items() if k != "client_key"}
    body["client_key"] = item.key
    if item.remote_id is not None:
        body["id"] = int(item.remote_id) if item.remote_id.isdigit() else item.remote_id
    if item.op == "delete":
        body["delete"] = True
    return body


def idempotency_key(entity: Entity, items: Sequence[dict[str, Any]]) -> str:
    payload = json.dumps([entity.value, items], sort_keys=True, ensure_ascii=False, default=str)
    return f"sg-{entity.value}-{hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()}"


def results_for(batch: Sequence[PushItem], data: Any) -> list[PushResult]:
    """One :class:`PushResult` per item of ``batch``, in order, from the response ``data``."""
    raw = data.get("results") if isinstance(data, dict) else None
    if not isinstance(raw, list) or len(raw) != len(batch):
        raise ContractViolation("batch answer does not carry one result per item", system=SYSTEM)
    out: list[PushResult] = []
    for item, res in zip(batch, raw, strict=True):
        if not isinstance(res, dict) or res.get("client_key") != item.key:
            raise ContractViolation("batch results are not in the order sent", system=SYSTEM)
        status = res.get("status")
        if status not in _STATUSES:
            raise ContractViolation(f"unknown item status {status!r}", system=SYSTEM)
        rid = res.get("id")
        final: PushStatus = status
        if item.op == "delete" and status == "updated":
            final = "deleted"
        error = res.get("error") if status == "rejected" else None
        out.append(
            PushResult(
                key=item.key,
                status=final,
                remote_id=str(rid) if rid is not None else None,
                error=str(error)
                if error
                else ("rejected without a reason" if status == "rejected" else None),
            )
        )
    return out
