from __future__ import annotations

import pytest

from connectors.asiou._stream import EntityDeclared, PackageStream, normalise_prolog, root_start

DECL = b'<?xml version="1.0" encoding="windows-1251"?>'


def read_all(stream: PackageStream, size: int = 5) -> bytes:
    out = b""
    while chunk := stream.read(size):
        out += chunk
    return out


def test_bom_before_a_windows_1251_declaration_is_dropped() -> None:
    data = b"\xef\xbb\xbf" + DECL + b"<a/>"
    assert read_all(PackageStream([data[:4], data[4:]])) == DECL + b"<a/>"


def test_bom_before_a_utf8_declaration_stays() -> None:
    data = b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?><a/>'
    assert read_all(PackageStream([data])) == data


@pytest.mark.parametrize("name", [b"cp1251", b"CP1251", b"cp-1251"])
def test_cp1251_is_renamed(name: bytes) -> None:
    data = b'<?xml version="1.0" encoding="' + name + b'"?><a/>'
    assert normalise_prolog(data[:-4]) == DECL


def test_the_rest_of_the_stream_is_untouched() -> None:
    body = "<a б='cp1251'/>".encode("cp1251")
    data = b'<?xml version="1.0" encoding="cp1251"?>' + body
    assert read_all(PackageStream([data[i : i + 3] for i in range(0, len(data), 3)])) == DECL + body


def test_root_start_skips_comments_and_doctype() -> None:
    head = DECL + b"<!-- <x> --><!DOCTYPE r [<!ELEMENT r ANY>]>\n<r/>"
    assert head[root_start(head) :] == b"<r/>"  # type: ignore[misc]
    assert root_start(DECL + b"<!-- open") is None


def test_entity_declarations_are_refused_even_after_a_comment_with_a_tag() -> None:
    data = DECL + b'<!DOCTYPE r [<!-- <a> --><!ENTITY x "y">]><r a="&x;"/>'
    with pytest.raises(EntityDeclared):
        PackageStream([data]).read(10)
