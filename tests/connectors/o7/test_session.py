from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from connectors.o7 import O7Session
from core.errors import AuthError, ContractViolation, RemoteRejected, TransientError
from tests.connectors.o7.conftest import Wire, html_500

WRONG = {"success": False, "message": "Неверный логин или пароль"}
LOCKED = {"success": False, "message": "Account locked: too many login attempts"}


def _classes(_body: dict[str, object]) -> dict[str, object]:
    return {"classes": []}


def test_logs_in_once_for_many_calls(wire: Wire, session: O7Session) -> None:
    wire.handlers["SchoolService/GetClasses"] = _classes
    for _ in range(3):
        assert session.call("SchoolService/GetClasses", {"school_id": "s"}) == {"classes": []}
    assert len(wire.logins) == 1
    assert wire.logins[0] == {"login_login": "teacher1", "login_password": "pw"}


@pytest.mark.parametrize(
    "expired",
    [httpx.Response(401), httpx.Response(302, headers={"Location": "/auth/login"})],
    ids=["401", "302"],
)
def test_expiry_relogs_in_once_and_repeats_the_call(
    wire: Wire, session: O7Session, expired: httpx.Response
) -> None:
    wire.handlers["SchoolService/GetClasses"] = _classes
    session.call("SchoolService/GetClasses", {})
    wire.scripted["SchoolService/GetClasses"] = [expired]
    assert session.call("SchoolService/GetClasses", {}) == {"classes": []}
    assert len(wire.logins) == 2
    assert wire.methods() == ["SchoolService/GetClasses"] * 3


def test_expiry_right_after_login_is_an_auth_error(wire: Wire, session: O7Session) -> None:
    wire.scripted["SchoolService/GetClasses"] = [httpx.Response(401)] * 5
    with pytest.raises(AuthError, match="again right after a fresh login"):
        session.call("SchoolService/GetClasses", {})
    assert len(wire.logins) == 2  # the first login, and one re-login: no loop


def test_three_failed_logins_are_three_attempts_and_clear_errors(
    wire: Wire, session: O7Session, sleeps: list[float]
) -> None:
    wire.login_answers = [httpx.Response(200, json=WRONG) for _ in range(3)]
    for n in range(1, 4):
        with pytest.raises(AuthError) as info:
            session.call("SchoolService/GetClasses", {})
        assert "wrong login or password" in str(info.value)
        assert "pw" not in str(info.value).replace("password", "")
        assert len(wire.logins) == n
    assert wire.calls == [] and sleeps == []  # never a retry, never a wait


def test_lock_out_is_reported_in_plain_words(wire: Wire, session: O7Session) -> None:
    wire.login_answers = [httpx.Response(200, json=LOCKED)]
    with pytest.raises(AuthError, match="account locked for 15 minutes"):
        session.login()
    assert len(wire.logins) == 1


def test_transient_faults_are_retried_with_waits(
    wire: Wire, session: O7Session, sleeps: list[float]
) -> None:
    wire.handlers["SchoolService/GetClasses"] = _classes
    wire.scripted["SchoolService/GetClasses"] = [
        html_500(),
        httpx.Response(503, text="maintenance", headers={"Retry-After": "2"}),
        httpx.Response(200, text="<html>error</html>", headers={"Content-Type": "text/html"}),
    ]
    assert session.call("SchoolService/GetClasses", {}) == {"classes": []}
    assert sleeps == [0.25, 2.0, 0.25]  # Retry-After honoured over the backoff
    assert len(wire.logins) == 1


def test_retries_are_bounded(wire: Wire, session: O7Session, sleeps: list[float]) -> None:
    wire.scripted["SchoolService/GetClasses"] = [html_500() for _ in range(10)]
    with pytest.raises(TransientError, match="HTML error page"):
        session.call("SchoolService/GetClasses", {})
    assert len(wire.calls) == 4 and len(sleeps) == 3


def test_timeouts_are_transient(wire: Wire, session: O7Session) -> None:
    wire.handlers["SchoolService/GetClasses"] = _classes
    answers = iter([httpx.ReadTimeout("slow"), None])

    def _slow(body: dict[str, object]) -> dict[str, object]:
        exc = next(answers)
        if exc is not None:
            raise exc
        return {"classes": []}

    wire.handlers["SchoolService/GetClasses"] = _slow
    assert session.call("SchoolService/GetClasses", {}) == {"classes": []}


def test_window_limit_is_a_contract_violation(wire: Wire, session: O7Session) -> None:
    wire.handlers["MarkService/GetMarks"] = lambda b: {
        "success": False,
        "message": "Период не более 31 дня",
    }
    with pytest.raises(ContractViolation, match="31"):
        session.call("MarkService/GetMarks", {})
    assert len(wire.calls) == 1


def test_other_refusals_are_rejections(wire: Wire, session: O7Session) -> None:
    wire.handlers["X/Y"] = lambda b: {"success": False, "message": "Нет доступа"}
    with pytest.raises(RemoteRejected):
        session.call("X/Y", {})


def test_login_without_cookie_breaks_the_contract(wire: Wire, session: O7Session) -> None:
    wire.login_answers = [httpx.Response(200, json={"success": True})]
    with pytest.raises(ContractViolation, match="sessionid"):
        session.login()


def test_login_503_is_retried_but_a_refusal_is_not(
    wire: Wire, session: O7Session, sleeps: list[float]
) -> None:
    wire.login_answers = [httpx.Response(503), httpx.Response(200, json=WRONG)]
    with pytest.raises(AuthError):
        session.login()
    assert len(wire.logins) == 2 and len(sleeps) == 1


def test_a_redirect_following_client_still_sees_expiry(wire: Wire) -> None:
    with httpx.Client(base_url="http://o7.test", follow_redirects=True) as client:
        session = O7Session(
            client,
            login="u",
            password=SecretStr("p"),
            attempts=2,
            wait=lambda _s: 0.0,
            sleep=lambda _s: None,
        )
        wire.handlers["SchoolService/GetClasses"] = _classes
        session.call("SchoolService/GetClasses", {})
        wire.scripted["SchoolService/GetClasses"] = [
            httpx.Response(302, headers={"Location": "/auth/login"})
        ]
        assert session.call("SchoolService/GetClasses", {}) == {"classes": []}
        assert len(wire.logins) == 2


def test_json_nested_beyond_the_bound_is_a_contract_violation(
    wire: Wire, session: O7Session, sleeps: list[float]
) -> None:
    deep = '{"classes": ' + "[" * 50_000 + "]" * 50_000 + "}"
    wire.scripted["SchoolService/GetClasses"] = [
        httpx.Response(200, text=deep, headers={"Content-Type": "application/json"})
    ]
    with pytest.raises(ContractViolation) as info:
        session.call("SchoolService/GetClasses", {})
    assert str(info.value) == (
        "[o7] POST http://o7.test/api/SchoolService/GetClasses: "
        "the JSON answer nests deeper than 64 levels"
    )
    assert sleeps == []


def test_each_retry_is_logged_with_the_call_and_the_wait(
    wire: Wire, session: O7Session, sleeps: list[float]
) -> None:
    from structlog.testing import capture_logs

    wire.scripted["SchoolService/GetClasses"] = [html_500() for _ in range(10)]
    with capture_logs() as logs, pytest.raises(TransientError) as info:
        session.call("SchoolService/GetClasses", {})
    url = "POST http://o7.test/api/SchoolService/GetClasses"
    assert [(e["url"], e["attempt"], e["wait_s"]) for e in logs] == [
        (url, 1, 0.25),
        (url, 2, 0.25),
        (url, 3, 0.25),
    ]
    assert logs[0]["reason"] == "server error HTTP 500 with an HTML error page"
    assert str(info.value).startswith(f"[o7] {url}: server error HTTP 500")
    assert "gave up after 4 attempts" in str(info.value)
    assert "pw" not in repr(logs)


def test_the_connector_takes_its_limits_and_budget_from_the_settings() -> None:
    from connectors.base import ConnectorSettings
    from connectors.o7 import O7Connector

    settings = ConnectorSettings(
        "o7",
        "http://o7.test",
        "s1",
        credentials={"login": SecretStr("u"), "password": SecretStr("p")},
        retries=2,
        retry_budget=42.0,
        request_deadline=9.0,
        max_body_mb=2.0,
    )
    conn = O7Connector.from_settings(settings)
    try:
        assert (conn.session.policy.attempts, conn.session.policy.budget) == (3, 42.0)
        limits = conn.session._exchange.limits
        assert (limits.deadline, limits.max_body) == (9.0, 2 * 2**20)
    finally:
        conn.close()
