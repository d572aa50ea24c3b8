"""Pushing marks and absences to О7 (``SaveMarks`` / ``SaveAbsences``), keyed by ``ext_id``.

О7 deduplicates on ``ext_id`` (our :attr:`PushItem.key`): the same key sent twice updates the
same mark, never a second one. It answers per item — ``saved`` or ``errors`` — and the other
items of a batch stand. О7 has no delete call here: a deletion is refused per item.
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


def push_batch(call: Call, entity: Entity, items: Sequence[PushItem]) -> list[PushResult]:
    """Send ``items`` in batches of ≤ 200; one result per item, in order."""
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
        body = {key: [{**item.payload, "ext_id": item.key} for item in chunk]}
        answer = call(method, body)
        results.update(_results(answer, chunk, method))
    return [results[item.key] for item in items]


def _results(
    answer: dict[str, Any], chunk: Sequence[PushItem], method: str
) -> dict[str, PushResult]:
    saved = answer.get("saved", [])
    errors = answer.get("errors", [])
    if not isinstance(saved, list) or not isinstance(errors, list):
        raise ContractViolation(f"{method}: 'saved'/'errors' are not lists", system="o7")
    by_key = {item.key: item for item in chunk}
    out: dict[str, PushResult] = {}
    for entry in saved:
        ext_id = str(entry.get("ext_id"))
        item = by_key.get(ext_id)
        if item is None:
            continue
        remote = entry.get("mark_guid") or entry.get("absence_guid") or entry.get("guid")
        status: PushStatus = "updated" if item.remote_id else "created"
        out[ext_id] = PushResult(
            ext_id, status, remote_id=str(remote) if remote else item.remote_id
        )
    for entry in errors:
        ext_id = str(entry.get("ext_id"))
        if ext_id in by_key:
            out[ext_id] = PushResult(
                ext_id, "rejected", error=str(entry.get("message") or "refused")
            )
    for ext_id in by_key:
        out.setdefault(
            ext_id, PushResult(ext_id, "rejected", error="О7 did not answer for this item")
        )
    return out
