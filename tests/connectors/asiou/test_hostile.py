"""АСИОУ against a hostile or slow server: packages and receipts capped while they stream, a
package in another encoding checked after decoding, a dripping export cut at the deadline —
each a one-line error in bounded time, nothing of the package applied."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx
from pydantic import SecretStr

from connectors.asiou import AsiouConnector
from connectors.base import ConnectorSettings, Page
from connectors.transport import MB, Limits
from core.errors import ContractViolation, TransientError
from tests.connectors.transport.drip import DripServer, http_head

from .packages import mark, package

BASE = "http://asiou.test"
EXPORT = f"{BASE}/asiou/exchange/export"
XML = {"Content-Type": "application/xml; charset=windows-1251"}


def settings(base: str = BASE, **kw: object) -> ConnectorSettings:
    return ConnectorSettings(
        "asiou",
        base,
        "760215",
        credentials={"login": SecretStr("gw"), "password": SecretStr("pw")},
        **kw,  # type: ignore[arg-type]
    )


class Endless(httpx.SyncByteStream):
    """A package that never ends: its head, then marks for ever (counting what was sent)."""

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        yield package(marks=()).split("<Отметки>".encode("cp1251"))[0] + "<Отметки>".encode(
            "cp1251"
        )
        chunk = "".join(mark(f"M{i}") for i in range(300)).encode("cp1251")
        while True:
            self.sent += len(chunk)
            yield chunk


@respx.mock
def test_a_package_over_its_cap_ends_the_pull_and_completes_nothing() -> None:
    endless = Endless()
    respx.get(EXPORT).mock(return_value=httpx.Response(200, headers=XML, stream=endless))
    conn = AsiouConnector.from_settings(settings(max_body_mb=2, retries=0), client=httpx.Client())
    got: list[Page] = []
    with pytest.raises(ContractViolation) as info:
        got.extend(conn.pull(None, None))
    assert str(info.value) == (
        f"[asiou] GET {EXPORT}?school=760215: the answer is larger than the limit of 2 MB"
    )
    assert not any(p.complete for p in got)
    assert endless.sent < 2 * MB + 200_000  # stopped at the cap, not read on into memory


def test_the_package_cap_is_larger_than_a_json_pages() -> None:
    conn = AsiouConnector.from_settings(settings(), client=httpx.Client())
    assert conn._exchange.limits.max_body >= 512 * MB  # a large school's year is ~110 MB
    assert conn._exchange.limits.max_body > Limits().max_body


@respx.mock
def test_a_receipt_over_its_cap_is_refused() -> None:
    receipt = (
        '<Квитанция Ид="R-1" Статус="обработан">'
        + '<Ошибка ВнешнийИд="k" Код="X" Текст="'
        + "т" * 200_000
        + '"/></Квитанция>'
    ).encode("cp1251")
    respx.get(f"{BASE}/asiou/exchange/receipt/R-1").mock(
        return_value=httpx.Response(200, headers=XML, content=receipt)
    )
    conn = AsiouConnector.from_settings(
        settings(options={"max_receipt_mb": 0.1}), client=httpx.Client()
    )
    with pytest.raises(ContractViolation, match="receipt/R-1: the answer is larger than the limit"):
        conn.receipt("R-1")


@respx.mock
@pytest.mark.parametrize("bom", [b"\xff\xfe", b""], ids=["BOM", "no BOM"])
def test_a_utf16_receipt_declaring_an_entity_is_refused(bom: bytes) -> None:
    text = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        '<!DOCTYPE Квитанция [<!ENTITY x "BOOM">]>'
        '<Квитанция Ид="R-2" Статус="обработан"><Ошибка ВнешнийИд="k" Код="&x;" Текст=""/>'
        "</Квитанция>"
    )
    respx.get(f"{BASE}/asiou/exchange/receipt/R-2").mock(
        return_value=httpx.Response(200, content=bom + text.encode("utf-16-le"))
    )
    conn = AsiouConnector.from_settings(settings(), client=httpx.Client())
    with pytest.raises(ContractViolation, match="a receipt declares entities"):
        conn.receipt("R-2")


@respx.mock
def test_a_utf16_receipt_without_entities_is_read() -> None:
    text = '<Квитанция Ид="R-3" Статус="обработан" Принято="1" Отклонено="0"/>'
    respx.get(f"{BASE}/asiou/exchange/receipt/R-3").mock(
        return_value=httpx.Response(
            200,
            headers={"Content-Type": "application/xml; charset=utf-16"},
            content=b"\xff\xfe" + text.encode("utf-16-le"),
        )
    )
    conn = AsiouConnector.from_settings(settings(), client=httpx.Client())
    receipt = conn.receipt("R-3")
    assert (receipt.id, receipt.done, receipt.accepted) == ("R-3", True, 1)


@respx.mock
def test_a_utf16_package_with_an_entity_is_refused_by_the_connector() -> None:
    data = package(doctype='<!DOCTYPE Пакет [<!ENTITY x "BOOM">]>\n', marks=(mark("M1", "&x;"),))
    text = data.decode("windows-1251").replace('encoding="windows-1251"', 'encoding="UTF-16"')
    respx.get(EXPORT).mock(
        return_value=httpx.Response(
            200, headers={"Content-Type": "application/xml"}, content=text.encode("utf-16")
        )
    )
    conn = AsiouConnector.from_settings(settings(), client=httpx.Client())
    got: list[Page] = []
    with pytest.raises(ContractViolation, match="declares entities"):
        got.extend(conn.pull(None, None))
    assert got == []


@pytest.mark.timeout(30)
def test_a_dripping_export_ends_the_pull_at_the_deadline() -> None:
    data = package()
    head = http_head(length=len(data), ctype="application/xml; charset=windows-1251")
    with DripServer(data, head=head, pause=0.2) as server:
        conn = AsiouConnector.from_settings(
            settings(server.url, request_deadline=1.0, retries=0, timeout=5.0)
        )
        got: list[Page] = []
        with pytest.raises(TransientError) as info:
            got.extend(conn.pull(None, None))
        conn.close()
    assert str(info.value) == (
        f"[asiou] GET {server.url}/asiou/exchange/export?school=760215: "
        "no complete answer within the request deadline of 1 s"
    )
    assert not any(p.complete for p in got)
    assert server.dripped < 15
