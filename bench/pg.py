"""A fresh PostgreSQL schema for one measurement, dropped afterwards.

The server is ``SCHOOLGATE_BENCH_PG`` (default: the local one the tests use).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

SERVER = os.environ.get("SCHOOLGATE_BENCH_PG", "postgresql://root@127.0.0.1:5432/test")


@contextmanager
def fresh_schema() -> Iterator[tuple[str, str]]:
    """``(store URL, schema name)`` of a new, empty schema."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    base = SERVER.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}?options=-csearch_path%3D{schema}", schema
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
