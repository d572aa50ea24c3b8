"""A file-like view of a streamed package for lxml, its prolog decoded, checked and normalised.

lxml's parser is fed from any object with ``read(size)``. :class:`PackageStream` feeds it from an
iterator of byte chunks (``response.iter_bytes()``) and, before the parser sees anything, reads
the prolog (everything before the root element) and deals with what exports get wrong or what a
hostile package tries:

* a package in an encoding that is not ASCII-compatible — UTF-16 or UTF-32, with or without a
  byte-order mark (XML 1.0 appendix F) — is decoded and fed on as UTF-8, its declaration saying
  so; an encoding whose markup may hide from these checks (EBCDIC, UTF-7, ISO-2022, a name
  Python does not know) is refused (:class:`BadEncoding`);
* the prolog is checked for entity declarations **after decoding**, in the encoding it declares,
  and as bytes: a DOCTYPE that declares entities is refused (:class:`EntityDeclared`), since
  libxml2 expands internal entities inside attribute values even with ``resolve_entities=False``;
  a DOCTYPE without entities is fine;
* a UTF-8 byte-order mark before a windows-1251 declaration is dropped, and
  ``encoding="cp1251"`` is renamed ``windows-1251`` (not every libxml2 build knows the alias).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator

BOM = b"\xef\xbb\xbf"
PROLOG_LIMIT = 1 << 20  # the root element must start within the first MB
_CP1251 = re.compile(rb"""(<\?xml[^>]*?encoding\s*=\s*["'])cp-?1251(["'])""", re.IGNORECASE)
_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_DECL_ENCODING_VALUE = re.compile(rb"""(<\?xml[^>]*?encoding\s*=\s*["'])[A-Za-z0-9._:-]+(["'])""")

#: the first bytes of a document that is not ASCII-compatible → (codec, length of its BOM);
#: the four-byte signatures come before the two-byte ones they begin with
_WIDE: tuple[tuple[bytes, str, int], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be", 4),
    (b"\xff\xfe\x00\x00", "utf-32-le", 4),
    (b"\x00\x00\x00<", "utf-32-be", 0),
    (b"<\x00\x00\x00", "utf-32-le", 0),
    (b"\xfe\xff", "utf-16-be", 2),
    (b"\xff\xfe", "utf-16-le", 2),
    (b"\x00<", "utf-16-be", 0),
    (b"<\x00", "utf-16-le", 0),
)
#: signatures of encodings the gateway does not read: EBCDIC, UCS-4 in unusual byte orders
_UNREAD = (b"\x4c\x6f\xa7\x94", b"\x00\x00\x3c\x00", b"\x00\x3c\x00\x00")
_PROBE = "<?xml!ENTITY DOCTYPE[]>"
#: encodings that may spell markup in other bytes than ASCII's (Python's codec names)
_SHIFTING = ("utf-7", "iso2022", "hz")


class EntityDeclared(ValueError):
    """The package's DOCTYPE declares entities; it is refused unparsed."""


class PrologTooLong(ValueError):
    """No root element within :data:`PROLOG_LIMIT` bytes."""


class BadEncoding(ValueError):
    """The package is in an encoding the gateway does not read, or not valid in its own."""


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


def wide_encoding(head: bytes) -> tuple[str, int] | None:
    """The codec and BOM length of a document beginning with ``head`` (at least its first four
    bytes) when it is not ASCII-compatible; ``None`` when it is. :class:`BadEncoding` for an
    encoding the gateway does not read."""
    if head.startswith(_UNREAD):
        raise BadEncoding("the package is in an encoding the gateway does not read")
    for signature, codec, bom in _WIDE:
        if head.startswith(signature):
            return codec, bom
    return None


def _ascii_compatible(name: str) -> bool:
    """Whether markup in encoding ``name`` is always spelt in the very bytes of ASCII: not a
    wide encoding, not EBCDIC, and not one that may spell ``<`` otherwise (UTF-7's ``+ADw-``,
    the escapes of ISO-2022 and HZ)."""
    try:
        codec = codecs.lookup(name).name
        return not codec.startswith(_SHIFTING) and _PROBE.encode(name) == _PROBE.encode("ascii")
    except (LookupError, UnicodeError):
        return False


def normalise_prolog(prolog: bytes, *, transcoded: bool = False) -> bytes:
    """The prolog (everything before the root element) checked, with the fixes above applied.

    ``transcoded``: the bytes were decoded from a wide encoding and are UTF-8 now, whatever the
    declaration says (it is made to say so).
    """
    if b"<!ENTITY" in prolog:
        raise EntityDeclared("the package declares entities in its DOCTYPE")
    body = prolog[len(BOM) :] if prolog.startswith(BOM) else prolog
    found = _DECL_ENCODING.match(body[:400])
    declared = found.group(1).decode("ascii") if found else None
    if transcoded:
        if declared is not None:
            prolog = _DECL_ENCODING_VALUE.sub(rb"\1UTF-8\2", prolog, count=1)
        declared = "utf-8"
    name = "windows-1251" if declared and declared.lower() in ("cp1251", "cp-1251") else declared
    if name is not None and not _ascii_compatible(name):
        raise BadEncoding(f"the package declares the encoding {name!r}, which it is not read in")
    text = body.decode(name or "utf-8", errors="replace")
    if "<!ENTITY" in text:
        raise EntityDeclared("the package declares entities in its DOCTYPE")
    if prolog.startswith(BOM) and (name or "utf-8").lower().replace("-", "") != "utf8":
        prolog = prolog[len(BOM) :]
    return _CP1251.sub(rb"\1windows-1251\2", prolog, count=1)


def _transcoded(chunks: Iterator[bytes], codec: str, bom: int) -> Iterator[bytes]:
    """``chunks`` of a ``codec`` document (its BOM dropped) as UTF-8."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    skip = bom
    try:
        for chunk in chunks:
            data = chunk[skip:]
            skip = max(0, skip - len(chunk))
            text = decoder.decode(data)
            if text:
                yield text.encode("utf-8")
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise BadEncoding(f"the package is not valid {codec.upper()}") from None
    if tail:
        yield tail.encode("utf-8")


class PackageStream:
    """``read(size)`` over an iterator of byte chunks, with a checked and normalised prolog.

    ``encoding``: the encoding of a document without a declaration (a receipt's HTTP charset);
    a declaration naming it is put in front of the bytes.
    """

    def __init__(self, chunks: Iterable[bytes], *, encoding: str | None = None) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._encoding = encoding
        self._buffer = b""
        self._prolog_done = False
        #: the wide encoding the package was decoded from, if it was
        self.transcoded_from: str | None = None
        self.bytes_read = 0

    def _first(self, size: int) -> bytes:
        head = b""
        while len(head) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            head += chunk
        return head

    def _fill_prolog(self) -> None:
        head = self._first(4)
        wide = wide_encoding(head)
        if wide is not None:
            codec, bom = wide
            self.transcoded_from = codec
            self._chunks = _transcoded(_chain(head, self._chunks), codec, bom)
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
        prolog, rest = (head[:start], head[start:]) if start is not None else (head, b"")
        if wide is None and self._encoding and not head.lstrip().startswith(b"<?xml"):
            prolog = f'<?xml version="1.0" encoding="{self._encoding}"?>'.encode("ascii") + prolog
        self._buffer = normalise_prolog(prolog, transcoded=wide is not None) + rest
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

    def read_all(self) -> bytes:
        """Everything left (a receipt: small)."""
        parts = []
        while data := self.read():
            parts.append(data)
        return b"".join(parts)


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest
