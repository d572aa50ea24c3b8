"""Restoring a PostgreSQL dump into another schema than the one it was taken from.

``pg_dump --schema S`` names every object ``S.name``; ``pg_restore`` cannot rename a schema. The
dump is therefore restored as SQL (``pg_restore -f -``), and :class:`SchemaRemap` rewrites each
line on its way to ``psql``: ``S.`` becomes ``"T".`` in statements (sequence names inside
``nextval('S.seq')`` and ``setval`` included), the ``CREATE SCHEMA S`` of the dump is left out
(the target schema exists), and the rows between ``COPY … FROM stdin;`` and ``\\.`` pass
untouched, so no value in the data is ever changed.
"""

from __future__ import annotations

import re

_BARE = re.compile(r"[a-z_][a-z0-9_$]*")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SchemaRemap:
    """A line filter (one instance per script: it remembers whether it is inside COPY data)."""

    def __init__(self, source: str, target: str) -> None:
        forms = [re.escape(quote_ident(source))]
        if _BARE.fullmatch(source):
            forms.append(re.escape(source))
        ident = "(?:" + "|".join(forms) + ")"
        self._qualified = re.compile(r'(?<![\w"$.])' + ident + r"\.")
        self._schema_stmt = re.compile(
            r"^(?:CREATE SCHEMA|ALTER SCHEMA|COMMENT ON SCHEMA)\s+" + ident + r"(?:\s|;)"
        )
        self._target = quote_ident(target) + "."
        self._in_copy = False

    def __call__(self, line: str) -> str | None:
        """The line to send on, or ``None`` to leave it out."""
        if self._in_copy:
            if line.rstrip("\r\n") == "\\.":
                self._in_copy = False
            return line
        if self._schema_stmt.match(line):
            return None
        out = self._qualified.sub(lambda _: self._target, line)
        if out.startswith("COPY ") and out.rstrip().endswith("FROM stdin;"):
            self._in_copy = True
        return out
