"""Idempotency keys for pushes: derived from the record, its version and its content, so a resend
after a crash carries the same key and the remote system answers ``duplicate`` instead of a second
copy — while different content never shares a key, even when version numbers start again (a store
restored from a backup). A record key names the record across its versions, for a system whose
key means "this record": sent again under it, a record replaces what was sent before."""

from __future__ import annotations

import hashlib


def record_key(system: str, entity: str, record_id: str) -> str:
    """The key of the record itself, the same for all its versions (see :class:`PushItem`)."""
    raw = f"{system}|{entity}|{record_id}".encode()
    return "sg-r-" + hashlib.blake2b(raw, digest_size=12).hexdigest()


def push_key(
    system: str, entity: str, record_id: str, version: int, op: str, content_hash: str = ""
) -> str:
    raw = f"{system}|{entity}|{record_id}|{version}|{op}|{content_hash}".encode()
    return "sg-" + hashlib.blake2b(raw, digest_size=12).hexdigest()
