"""The shared classification table, one row per kind of answer (or of its absence)."""

from __future__ import annotations

import httpx
import pytest

from connectors.transport import HTTP, Action, StatusTable, classify, error_for
from connectors.transport._faults import BodyTooLarge, BrokeOff, DeadlineExceeded, TooDeep
from core.errors import (
    AuthError,
    ContractViolation,
    CursorExpired,
    RateLimited,
    RemoteRejected,
    TransientError,
)

URL = "http://user:s3cret@sys.test/api/items?limit=5&token=abc"


def answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", URL))


TABLE = [
    ("200", answer(200), Action.OK),
    ("204", answer(204), Action.OK),
    ("301 redirect", answer(301, Location="https://elsewhere.test/"), Action.CONTRACT),
    ("302 redirect", answer(302), Action.CONTRACT),
    ("401", answer(401), Action.REAUTH),
    ("403", answer(403), Action.AUTH),
    ("407", answer(407), Action.AUTH),
    ("408", answer(408), Action.RETRY),
    ("429", answer(429, **{"Retry-After": "3"}), Action.RATE_LIMITED),
    ("400", answer(400), Action.REJECTED),
    ("404", answer(404), Action.REJECTED),
    ("410", answer(410), Action.REJECTED),
    ("418", answer(418), Action.REJECTED),
    ("500", answer(500), Action.RETRY),
    ("502", answer(502), Action.RETRY),
    ("503", answer(503, **{"Retry-After": "120"}), Action.RETRY),
    ("504", answer(504), Action.RETRY),
    ("599", answer(599), Action.RETRY),
    ("101", answer(101), Action.CONTRACT),
    ("timeout", httpx.ReadTimeout("slow"), Action.RETRY),
    ("connect timeout", httpx.ConnectTimeout("slow"), Action.RETRY),
    ("refused", httpx.ConnectError("refused"), Action.RETRY),
    ("reset", httpx.ReadError("reset by peer"), Action.RETRY),
    ("closed", httpx.RemoteProtocolError("peer closed"), Action.RETRY),
    ("deadline", DeadlineExceeded(30), Action.RETRY),
    ("broke off", BrokeOff(httpx.ReadError("x")), Action.RETRY),
    ("too large", BodyTooLarge(32 * 2**20), Action.CONTRACT),
    ("too deep", TooDeep(64), Action.CONTRACT),
    ("bug", ValueError("x"), Action.CONTRACT),
]


@pytest.mark.parametrize(
    ("outcome", "action"), [(o, a) for _, o, a in TABLE], ids=[name for name, _, _ in TABLE]
)
def test_classify_table(outcome: httpx.Response | Exception, action: Action) -> None:
    assert classify(outcome).action is action


ERRORS = [
    (Action.RETRY, TransientError),
    (Action.RATE_LIMITED, RateLimited),
    (Action.REAUTH, AuthError),
    (Action.AUTH, AuthError),
    (Action.REJECTED, RemoteRejected),
    (Action.CURSOR_EXPIRED, CursorExpired),
    (Action.CONTRACT, ContractViolation),
]


@pytest.mark.parametrize(("action", "error"), ERRORS, ids=[a.value for a, _ in ERRORS])
def test_each_action_stands_for_one_error(action: Action, error: type[Exception]) -> None:
    decision = classify(answer(500)).but(action)
    assert type(error_for(decision, "sys")) is error


def test_ok_is_no_error() -> None:
    with pytest.raises(ValueError):
        error_for(classify(answer(200)), "sys")


@pytest.mark.parametrize(("status", "header"), [(429, "3"), (503, "120"), (500, None)])
def test_retry_after_is_carried(status: int, header: str | None) -> None:
    headers = {"Retry-After": header} if header else {}
    err = error_for(classify(answer(status, **headers)), "sys")
    assert isinstance(err, TransientError)
    assert err.retry_after == (float(header) if header else None)


def test_the_request_is_named_without_credentials_or_secrets() -> None:
    decision = classify(answer(503))
    message = str(error_for(decision, "sys"))
    assert message.startswith("[sys] GET http://sys.test/api/items?limit=5&token=[redacted]: ")
    assert "s3cret" not in message and "user" not in message and "abc" not in message
    request = httpx.Request("POST", URL)
    failed = classify(httpx.ConnectError("refused", request=request))
    assert failed.where == "POST http://sys.test/api/items?limit=5&token=[redacted]"


def test_a_redirect_names_where_it_points_without_credentials() -> None:
    decision = classify(answer(302, Location="https://u:pw@login.test/form?sid=42"))
    assert decision.reason == (
        "unexpected redirect HTTP 302 to https://login.test/form?sid=[redacted]"
    )


def test_a_system_adjusts_rows_of_the_table() -> None:
    table = HTTP.but({410: Action.CURSOR_EXPIRED}, by_class={4: Action.CONTRACT})
    assert classify(answer(410), table).action is Action.CURSOR_EXPIRED
    assert classify(answer(418), table).action is Action.CONTRACT
    assert classify(answer(429), table).action is Action.RATE_LIMITED  # kept
    assert classify(answer(418)).action is Action.REJECTED  # the shared table is unchanged
    assert StatusTable().action(200) is Action.CONTRACT  # an empty table knows nothing
