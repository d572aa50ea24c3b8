"""Pushing marks and absences to О7 (``SaveMarks`` / ``SaveAbsences``), keyed by ``ext_id``.

О7 deduplicates on ``ext_id`` and *updates*: the same ``ext_id`` sent again changes the mark it
made, never adds a second one. So the ``ext_id`` names the **record** across its versions —
:attr:`PushItem.record_key` (as ``ВнешнийИд`` does for АСИОУ) — and an edited mark updates the
one О7 holds. The outbox's own idempotency key (:attr:`PushItem.key`, one per version) stays
the gateway's: every result is answered under it. (An item without a record key is sent under
its own key.)

Versions of one record in one batch carry the record as it is now, so the record is sent once
and its answer is every version's. О7 answers per entry — ``saved`` or ``errors`` — and the
other entries of a batch stand. О7 has no delete call here: a deletion is refused per item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from connectors.base import PushItem, PushResult, PushStatus
from core.entities import Entity
from core.errors import ContractViolation

#: entity → (RPC method, list key in the body)
PUSH_CALLS: dict[Entity, tuple[str, str]] = {
    Entity.MARKS: ("MarkService/SaveMarks", "marks"),
    Entity.ATTENDANCE: ("AttendanceService/SaveAbsences", "absences"),
}
MAX_BATCH = 200

Call = Callable[[str, dict[str, Any]], dict[str, Any]]


def ext_id(item: PushItem) -> str:
    """The ``ext_id`` О7 keeps for ``item``: its record's key, the same for every version."""
    return item.record_key or item.key


def push_batch(call: Call, entity: Entity, items: Sequence[PushItem]) -> list[PushResult]:
    """Send ``items`` in batches of ≤ 200 entries; one result per item, in order."""
    method, key = PUSH_CALLS[entity]
    results: dict[str, PushResult] = {}
    sendable: list[PushItem] = []
    for item in items:
        if item.op == "delete":
            results[item.key] = PushResult(
                item.key, "rejected", error="О7 takes no deletions through its interface"
            )
        else:
            sendable.append(item)
    for start in range(0, len(sendable), MAX_BATCH):
        chunk = sendable[start : start + MAX_BATCH]
        versions: dict[str, list[PushItem]] = {}
        for item in chunk:
            versions.setdefault(ext_id(item), []).append(item)
        # the last version of each record is sent, under the record's key
        body = {key: [{**group[-1].payload, "ext_id": ext} for ext, group in versions.items()]}
        answer = call(method, body)
        results.update(_results(answer, versions, method))
    return [results[item.key] for item in items]


def _results(
    answer: dict[str, Any], versions: dict[str, list[PushItem]], method: str
) -> dict[str, PushResult]:
    """Each item's result (by its own key) from the answer's entries (by ``ext_id``)."""
    saved = answer.get("saved", [])
    errors = answer.get("errors", [])
    if not isinstance(saved, list) or not isinstance(errors, list):
        raise ContractViolation(f"{method}: 'saved'/'errors' are not lists", system="o7")
    out: dict[str, PushResult] = {}
    for entry in saved:
        if not isinstance(entry, dict):
            continue
        remote = entry.get("mark_guid") or entry.get("absence_guid") or entry.get("guid")
        for item in versions.get(str(entry.get("ext_id")), ()):
            status: PushStatus = "updated" if item.remote_id else "created"
            rid = str(remote) if remote else item.remote_id
            out[item.key] = PushResult(item.key, status, remote_id=rid)
    for entry in errors:
        if not isinstance(entry, dict):
            continue
        for item in versions.get(str(entry.get("ext_id")), ()):
            error = str(entry.get("message") or "refused")
            out[item.key] = PushResult(item.key, "rejected", error=error)
    for group in versions.values():
        for item in group:
            out.setdefault(
                item.key,
                PushResult(item.key, "rejected", error="О7 did not answer for this item"),
            )
    return out
