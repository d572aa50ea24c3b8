from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest

from connectors.asiou import iter_pages
from connectors.base import Page
from core.entities import Entity
from core.errors import ContractViolation

from .packages import BASE_RECORDS, chunked, mark, package


def pages_of(data: bytes, **kw: object) -> list[Page]:
    return list(iter_pages(chunked(data, 11), **kw))  # type: ignore[arg-type]


def by_entity(pages: list[Page]) -> dict[Entity, list[dict[str, object]]]:
    out: dict[Entity, list[dict[str, object]]] = {}
    for p in pages:
        out.setdefault(p.entity, []).extend(p.records)
    return out


def test_full_package_every_entity_snapshot_and_last_page_complete() -> None:
    pages = pages_of(package())
    assert all(p.atomic and p.snapshot for p in pages)
    assert [p.complete for p in pages].count(True) == 1 and pages[-1].complete
    assert pages[-1].state == {"since": "2025-10-14T08:00:00+03:00", "revision": "88123"}
    assert all(p.state == {} for p in pages[:-1])  # state only valid with the complete page
    records = by_entity(pages)
    assert len(records) == 10
    assert records[Entity.PUPILS][0]["Фамилия"] == "Иванова"  # windows-1251 decoded
    assert records[Entity.SUBGROUPS][0]["Члены"] == ["U55001"]
    assert records[Entity.CLASSES][0]["Учебныйгод"] == "2025/2026"
    assert records[Entity.MARKS][0]["_element"] == "Отметка"


def test_full_package_gives_an_empty_snapshot_page_for_an_empty_entity() -> None:
    pages = pages_of(package(marks=()))
    marks = [p for p in pages if p.entity is Entity.MARKS]
    assert len(marks) == 1 and marks[0].records == [] and marks[0].snapshot


def test_delta_package_is_not_a_snapshot_and_keeps_deletions() -> None:
    pages = pages_of(package(full="0", marks=(mark("M1", deleted="1"),)), state={"since": "x"})
    assert not any(p.snapshot for p in pages)
    assert by_entity(pages)[Entity.MARKS] == [{**by_entity(pages)[Entity.MARKS][0], "Удалена": "1"}]
    assert pages[0].state == {"since": "x"}


def test_duplicate_in_one_page_last_wins_in_place() -> None:
    pages = pages_of(package(marks=(mark("M1", "2"), mark("M2", "3"), mark("M1", "5"))))
    marks = by_entity(pages)[Entity.MARKS]
    assert [(m["Ид"], m["Значение"]) for m in marks] == [("M1", "5"), ("M2", "3")]


def test_duplicate_in_a_later_page_is_yielded_again_after_the_first() -> None:
    data = package(marks=(mark("M1", "2"), mark("M2", "3"), mark("M1", "5")))
    pages = pages_of(data, chunk_size=2)
    marks = [r for p in pages if p.entity is Entity.MARKS for r in p.records]
    # applied in order as upserts, M1 ends as 5
    final = {m["Ид"]: m["Значение"] for m in marks}
    assert final == {"M1": "5", "M2": "3"}
    assert max(len(p.records) for p in pages) <= 2


def test_only_one_entity() -> None:
    pages = pages_of(package(), only=Entity.PUPILS)
    assert {p.entity for p in pages} == {Entity.PUPILS} and pages[-1].complete


def consume(data: bytes) -> list[Page]:
    got: list[Page] = []
    with pytest.raises(ContractViolation):
        for page in iter_pages(chunked(data, 13)):
            got.append(page)
    assert not any(p.complete for p in got)
    return got


def test_cut_short_package_raises_instead_of_completing() -> None:
    data = package()
    got = consume(data[: len(data) // 2])
    assert all(p.atomic for p in got)


def test_missing_closing_tag_raises() -> None:
    consume(package(close=False))


def test_count_mismatch_raises() -> None:
    consume(package(total=BASE_RECORDS))  # one mark not counted


def test_missing_total_raises() -> None:
    data = package().replace(f'<Итог Записей="{BASE_RECORDS + 1}"/>'.encode("cp1251"), b"")
    consume(data)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("enc", ["windows-1251", "cp1251"])
def test_encodings_and_bom(bom: bytes, enc: str) -> None:
    pages = pages_of(bom + package(enc=enc))
    assert by_entity(pages)[Entity.TEACHERS][0]["Фамилия"] == "Петрова"


def test_a_doctype_without_entities_is_read() -> None:
    pages = pages_of(package(doctype="<!DOCTYPE Пакет>\n"))
    assert pages[-1].complete


XXE = '<!DOCTYPE Пакет [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
LAUGHS = (
    '<!DOCTYPE Пакет [<!ENTITY a0 "ha">'
    + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    + "]>\n"
)


INTERNAL = '<!DOCTYPE Пакет [<!ENTITY x "BOOM">]>\n'


@pytest.mark.parametrize(
    ("doctype", "ref"),
    [(XXE, "&x;"), (LAUGHS, "&a9;"), (INTERNAL, "&x;")],
    ids=["external-entity", "billion-laughs", "internal-entity"],
)
def test_entities_are_never_expanded(doctype: str, ref: str) -> None:
    """libxml2 expands internal entities in attribute values even with resolve_entities=False
    (the internal-entity case would read "BOOM"): the package must be refused unparsed."""
    data = package(doctype=doctype, marks=(mark("M1", ref),))
    got: list[Page] = []
    with pytest.raises(ContractViolation, match="declares entities"):
        got.extend(iter_pages(chunked(data, 13)))
    assert got == []  # refused before a single record is read


def _big_package(n: int) -> Iterator[bytes]:
    yield package(marks=()).split("<Отметки>".encode("cp1251"))[0] + "<Отметки>".encode("cp1251")
    for i in range(n):
        yield mark(f"M{i}").encode("cp1251")
    tail = '</Отметки><ИтоговыеОтметки/><Пропуски/><Итог Записей="{}"/></Пакет>'
    yield tail.format(n + 7).encode("cp1251")


def test_memory_stays_bounded_on_a_large_stream() -> None:
    tracemalloc.start()
    try:
        count = 0
        for page in iter_pages(_big_package(20_000), chunk_size=500):
            count += len(page.records)
            assert len(page.records) <= 500
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000 + 7
    assert peak < 6 * 2**20  # 20k records as dicts would be far more


def _in(encoding: str, data: bytes, *, declared: str | None = None, bom: bytes = b"") -> bytes:
    """The package ``data`` (windows-1251) re-encoded, its declaration naming ``declared``."""
    text = data.decode("windows-1251")
    if declared is not None:
        text = text.replace('encoding="windows-1251"', f'encoding="{declared}"')
    return bom + text.encode(encoding)


WIDE = [
    ("utf-16 BOM", "utf-16-le", "UTF-16", b"\xff\xfe"),
    ("utf-16-le no BOM", "utf-16-le", "UTF-16", b""),
    ("utf-16-be BOM", "utf-16-be", "UTF-16", b"\xfe\xff"),
    ("utf-16-be no BOM", "utf-16-be", "UTF-16BE", b""),
    ("utf-32-le BOM", "utf-32-le", "UTF-32", b"\xff\xfe\x00\x00"),
    ("utf-32-be no BOM", "utf-32-be", "UTF-32", b""),
]


@pytest.mark.parametrize(
    ("encoding", "declared", "bom"), [w[1:] for w in WIDE], ids=[w[0] for w in WIDE]
)
def test_a_package_in_a_wide_encoding_is_read(encoding: str, declared: str, bom: bytes) -> None:
    pages = pages_of(_in(encoding, package(), declared=declared, bom=bom))
    assert pages[-1].complete
    assert by_entity(pages)[Entity.TEACHERS][0]["Фамилия"] == "Петрова"


@pytest.mark.parametrize(
    ("encoding", "declared", "bom"), [w[1:] for w in WIDE], ids=[w[0] for w in WIDE]
)
@pytest.mark.parametrize(
    ("doctype", "ref"),
    [(XXE, "&x;"), (LAUGHS, "&a9;"), (INTERNAL, "&x;")],
    ids=["external-entity", "billion-laughs", "internal-entity"],
)
def test_entities_in_a_wide_encoding_are_refused_after_decoding(
    encoding: str, declared: str, bom: bytes, doctype: str, ref: str
) -> None:
    """As bytes, ``<!ENTITY`` in UTF-16 is ``<\\0!\\0E\\0…``: the check must read the text."""
    data = _in(
        encoding, package(doctype=doctype, marks=(mark("M1", ref),)), declared=declared, bom=bom
    )
    got: list[Page] = []
    with pytest.raises(ContractViolation, match="declares entities") as info:
        got.extend(iter_pages(chunked(data, 13)))
    assert got == []
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ('<?xml version="1.0" encoding="IBM500"?><a/>'.encode("cp500"), "does not read"),
        (_in("utf-7", package(), declared="UTF-7"), "UTF-7"),
        (package(enc="UTF-16"), "UTF-16"),  # ASCII bytes that claim to be UTF-16
        (package(enc="x-no-such-encoding"), "x-no-such-encoding"),
        (b"\xff\xfe" + "<Пакет>".encode("utf-16-le") + b"\x00\xd8", "not valid UTF-16"),
    ],
    ids=["ebcdic", "utf-7", "utf-16-declared-on-ascii", "unknown", "broken-utf-16"],
)
def test_an_encoding_the_gateway_cannot_check_is_refused(data: bytes, why: str) -> None:
    with pytest.raises(ContractViolation, match=why):
        list(iter_pages(chunked(data, 13)))


def test_an_entity_spelt_in_utf_7_is_refused_before_anything_else() -> None:
    text = package(doctype=INTERNAL, marks=(mark("M1", "&x;"),)).decode("windows-1251")
    data = text.replace('encoding="windows-1251"', 'encoding="UTF-7"').encode("utf-7")
    data = data.replace(b"<!", b"+ADw-!")  # UTF-7 may spell "<" so
    assert b"<!ENTITY" not in data and "<!ENTITY" in data.decode("utf-7")
    with pytest.raises(ContractViolation, match="UTF-7"):
        list(iter_pages(chunked(data, 13)))


def test_default_pages_are_small_enough_for_a_flat_pull() -> None:
    """A pull holds a few pages at once (the one filling, the one held back, the read-ahead's):
    by default a page is at most 1,000 records (issue 19: a pull's peak memory ≤ 150 MB)."""
    sizes = [len(p.records) for p in iter_pages(_big_package(2_500))]
    assert sum(sizes) == 2_500 + 7
    assert max(sizes) <= 1_000
