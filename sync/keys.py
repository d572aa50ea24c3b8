"""Idempotency keys for pushes: derived from the record and its version, so a resend after a
crash carries the same key and the remote system answers ``duplicate`` instead of a second copy."""

from __future__ import annotations

import hashlib


def push_key(system: str, entity: str, record_id: str, version: int, op: str) -> str:
    raw = f"{system}|{entity}|{record_id}|{version}|{op}".encode()
    return "sg-" + hashlib.blake2b(raw, digest_size=12).hexdigest()
