"""A file-like view of a streamed package for lxml, normalising its first bytes.

lxml's ``iterparse`` reads from any object with ``read(size)``. :class:`PackageStream` feeds it
from an iterator of byte chunks (``response.iter_bytes()``) and fixes what some exports get
wrong in the prolog, before the parser sees it:

* a UTF-8 byte-order mark before a windows-1251 declaration is dropped;
* ``encoding="cp1251"`` is renamed ``windows-1251`` (not every libxml2 build knows the alias);
* a DOCTYPE that declares entities is refused (:class:`EntityDeclared`): libxml2 expands internal
  entities inside attribute values even with ``resolve_entities=False``, so the only safe
  answer to ``<!ENTITY`` is not to parse the package at all. A DOCTYPE without entities is fine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

BOM = b"\xef\xbb\xbf"
PROLOG_LIMIT = 1 << 20  # the root element must start within the first MB
_CP1251 = re.compile(rb"""(<\?xml[^>]*?encoding\s*=\s*["'])cp-?1251(["'])""", re.IGNORECASE)
_DECL_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class EntityDeclared(ValueError):
    """The package's DOCTYPE declares entities; it is refused unparsed."""


class PrologTooLong(ValueError):
    """No root element within :data:`PROLOG_LIMIT` bytes."""


def root_start(head: bytes) -> int | None:
    """Where the root element starts in ``head``, or ``None`` if ``head`` ends before it.

    Skips the BOM, whitespace, the declaration, processing instructions, comments and the DOCTYPE
    (with its internal subset), so a ``<`` inside a comment is not taken for the root.
    """
    i = len(BOM) if head.startswith(BOM) else 0
    n = len(head)
    while i < n:
        if head[i : i + 1].isspace():
            i += 1
            continue
        if head.startswith(b"<?", i):
            end = head.find(b"?>", i)
            end = end + 2 if end >= 0 else -1
        elif head.startswith(b"<!--", i):
            end = head.find(b"-->", i + 4)
            end = end + 3 if end >= 0 else -1
        elif head.startswith(b"<!DOCTYPE", i):
            bracket, close = head.find(b"[", i), head.find(b">", i)
            if close >= 0 and (bracket < 0 or close < bracket):
                end = close + 1
            else:
                end = head.find(b"]", bracket) if bracket >= 0 else -1
                end = head.find(b">", end) + 1 if end >= 0 else -1
                if end == 0:
                    end = -1
        elif n - i < 9 and b"<!DOCTYPE".startswith(head[i:]):
            return None  # the DOCTYPE keyword is cut by the chunk boundary
        else:
            return i
        if end < 0:
            return None
        i = end
    return None


def normalise_prolog(prolog: bytes) -> bytes:
    """The prolog (everything before the root element) with the fixes above applied."""
    if b"<!ENTITY" in prolog:
        raise EntityDeclared("the package declares entities in its DOCTYPE")
    if prolog.startswith(BOM):
        m = _DECL_ENCODING.search(prolog[len(BOM) : len(BOM) + 200])
        if m and m.group(1).lower().replace(b"-", b"") not in (b"utf8",):
            prolog = prolog[len(BOM) :]
    return _CP1251.sub(rb"\1windows-1251\2", prolog, count=1)


class PackageStream:
    """``read(size)`` over an iterator of byte chunks, with a normalised prolog."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""
        self._prolog_done = False
        self.bytes_read = 0

    def _fill_prolog(self) -> None:
        head = b""
        start: int | None = None
        while True:
            start = root_start(head)
            if start is not None:
                break
            if b"<!ENTITY" in head:
                raise EntityDeclared("the package declares entities in its DOCTYPE")
            if len(head) > PROLOG_LIMIT:
                raise PrologTooLong("no root element in the first MB of the package")
            chunk = next(self._chunks, None)
            if chunk is None:
                break  # a short or empty package: let the parser report it
            head += chunk
        if start is not None:
            self._buffer = normalise_prolog(head[:start]) + head[start:]
        else:
            self._buffer = normalise_prolog(head)
        self._prolog_done = True

    def read(self, size: int = -1) -> bytes:
        if not self._prolog_done:
            self._fill_prolog()
        if not self._buffer:
            chunk = next(self._chunks, None)
            while chunk is not None and not chunk:
                chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buffer = chunk
        if size is None or size < 0 or size >= len(self._buffer):
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        self.bytes_read += len(out)
        return out
