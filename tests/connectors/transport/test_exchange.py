"""The HTTP seam: a deadline for the whole answer (a real dripping server on 127.0.0.1) and a
cap on the body, checked while it streams; every failure one line naming the request."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx
import pytest
import respx

from connectors.transport import MB, Exchange, Limits
from core.errors import ContractViolation, TransientError
from tests.connectors.transport.drip import DripServer, http_head

BODY = b'{"data": [' + b"1," * 495 + b"1]}"  # 1,000 bytes


def exchange(client: httpx.Client, **limits: float) -> Exchange:
    return Exchange(client, system="sys", limits=Limits(**limits))  # type: ignore[arg-type]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("dripping", ["body", "status line and headers"])
def test_a_dripping_server_cannot_hold_a_request_past_its_deadline(dripping: str) -> None:
    head = http_head(length=len(BODY))
    drip = BODY if dripping == "body" else head + BODY
    with (
        DripServer(drip, head=head if dripping == "body" else b"", pause=0.2) as server,
        httpx.Client(base_url=server.url, timeout=5) as client,
    ):
        request = client.build_request("GET", "/api/items?token=abc")
        with pytest.raises(TransientError) as info:
            exchange(client, deadline=1.0).fetch(request)
    message = str(info.value)
    assert message == (
        f"[sys] GET {server.url}/api/items?token=[redacted]: "
        "no complete answer within the request deadline of 1 s"
    )
    # every read was under httpx's 5 s timeout: without the deadline all 1,000+ bytes would come
    assert server.dripped < 15


@pytest.mark.timeout(20)
def test_a_slow_but_steady_answer_within_the_deadline_is_read() -> None:
    head = http_head(length=10)
    with (
        DripServer(b'{"a": 123}', head=head, pause=0.02) as server,
        httpx.Client(base_url=server.url, timeout=5) as client,
    ):
        response = exchange(client, deadline=5.0).fetch(client.build_request("GET", "/x"))
    assert response.json() == {"a": 123}
    assert server.dripped == 10


@pytest.mark.timeout(20)
def test_time_between_chunks_spent_by_the_consumer_is_not_the_servers() -> None:
    """A package is applied while it streams: the consumer's pauses do not count."""
    import time

    head = http_head(length=6, ctype="application/xml")
    with (
        DripServer(b"abcdef", head=head, pause=0.05) as server,
        httpx.Client(base_url=server.url, timeout=5) as client,
    ):
        opened = exchange(client, deadline=1.5).open(client.build_request("GET", "/export"))
        got = b""
        for chunk in opened.chunks():
            got += chunk
            time.sleep(0.4)  # applying a page; six of these are longer than the deadline
    assert got == b"abcdef"


@respx.mock
def test_a_declared_body_over_the_cap_is_refused_unread() -> None:
    class Endless(httpx.SyncByteStream):
        sent = 0

        def __iter__(self) -> Iterator[bytes]:
            while True:
                Endless.sent += 1
                yield b"x" * 65536

    respx.get("http://sys.test/big").mock(
        return_value=httpx.Response(200, headers={"Content-Length": str(10**9)}, stream=Endless())
    )
    with httpx.Client() as client, pytest.raises(ContractViolation) as info:
        exchange(client, max_body=MB).fetch(client.build_request("GET", "http://sys.test/big"))
    assert str(info.value) == (
        "[sys] GET http://sys.test/big: the answer is larger than the limit of 1 MB"
    )
    assert Endless.sent == 0


@respx.mock
def test_an_undeclared_body_over_the_cap_stops_as_soon_as_it_passes_it() -> None:
    class Endless(httpx.SyncByteStream):
        sent = 0

        def __iter__(self) -> Iterator[bytes]:
            while True:
                Endless.sent += 1
                yield b"x" * 65536

    respx.get("http://sys.test/big").mock(return_value=httpx.Response(200, stream=Endless()))
    with httpx.Client() as client, pytest.raises(ContractViolation, match="larger than the limit"):
        exchange(client, max_body=MB).fetch(client.build_request("GET", "http://sys.test/big"))
    assert Endless.sent == MB // 65536 + 1  # read up to the cap, not a byte of chunk more


@respx.mock
def test_the_cap_counts_decoded_bytes_a_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"0" * (4 * MB))
    respx.get("http://sys.test/z").mock(
        return_value=httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=bomb)
    )
    with httpx.Client() as client, pytest.raises(ContractViolation, match="limit of 1 MB"):
        exchange(client, max_body=MB).fetch(client.build_request("GET", "http://sys.test/z"))


@respx.mock
def test_a_read_answer_holds_the_decoded_body_with_its_headers_and_request() -> None:
    respx.get("http://sys.test/z").mock(
        return_value=httpx.Response(
            201,
            headers={"Content-Encoding": "gzip", "Set-Cookie": "sid=1", "X-Tag": "t"},
            content=gzip.compress(b'{"ok": true}'),
        )
    )
    with httpx.Client() as client:
        response = exchange(client).fetch(client.build_request("GET", "http://sys.test/z"))
    assert response.status_code == 201 and response.json() == {"ok": True}
    assert response.headers["X-Tag"] == "t" and "content-encoding" not in response.headers
    assert response.cookies["sid"] == "1" and response.request.url.host == "sys.test"


@respx.mock
def test_a_connection_lost_mid_body_is_transient() -> None:
    class Broken(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b"{"
            raise httpx.RemoteProtocolError("peer closed connection")

    respx.get("http://sys.test/b").mock(return_value=httpx.Response(200, stream=Broken()))
    with httpx.Client() as client, pytest.raises(TransientError) as info:
        exchange(client).fetch(client.build_request("GET", "http://sys.test/b"))
    assert str(info.value) == (
        "[sys] GET http://sys.test/b: the answer broke off (RemoteProtocolError)"
    )


def test_a_dead_server_is_transient_and_named() -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    url = f"http://gw:secret@127.0.0.1:{port}/api"
    with httpx.Client(timeout=2) as client, pytest.raises(TransientError) as info:
        exchange(client).fetch(client.build_request("GET", url))
    assert str(info.value) == (
        f"[sys] GET http://127.0.0.1:{port}/api: connection failed (ConnectError)"
    )


def test_redirects_are_never_followed() -> None:
    with respx.mock:
        respx.get("http://sys.test/a").mock(
            return_value=httpx.Response(302, headers={"Location": "http://sys.test/b"})
        )
        after = respx.get("http://sys.test/b").mock(return_value=httpx.Response(200))
        with httpx.Client(follow_redirects=True) as client:
            response = exchange(client).fetch(client.build_request("GET", "http://sys.test/a"))
    assert response.status_code == 302 and after.call_count == 0
