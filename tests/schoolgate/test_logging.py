"""Logs are JSON with run context; personal data and secrets are redacted whatever the caller does."""

from __future__ import annotations

import io
import json
import sys

import pytest
import structlog

from schoolgate.logs import REDACTED, configure_logging, get_logger


def test_json_logs_redact_personal_data_and_secrets() -> None:
    buf = io.StringIO()
    configure_logging("json", "info", stream=buf)
    structlog.contextvars.bind_contextvars(run_id="r-1")
    try:
        get_logger().info(
            "pulled",
            pupil_id="p1",
            last_name="Иванова",
            snils="12345678964",
            client_secret="x",
            count=3,
        )
    finally:
        structlog.contextvars.clear_contextvars()
    event = json.loads(buf.getvalue())
    assert event["event"] == "pulled" and event["run_id"] == "r-1" and event["count"] == 3
    assert event["pupil_id"] == "p1"
    assert event["last_name"] == REDACTED and event["snils"] == REDACTED
    assert event["client_secret"] == REDACTED
    assert "Иванова" not in buf.getvalue()


def test_level_filters_debug() -> None:
    buf = io.StringIO()
    configure_logging("console", "warning", stream=buf)
    get_logger().info("quiet")
    get_logger().warning("loud")
    assert "quiet" not in buf.getvalue() and "loud" in buf.getvalue()


def test_default_stream_follows_sys_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    configure_logging("json", "info")
    before = io.StringIO()
    monkeypatch.setattr(sys, "stderr", before)
    get_logger().info("first")
    before.close()  # a runner swapped stderr back and closed its own
    after = io.StringIO()
    monkeypatch.setattr(sys, "stderr", after)
    get_logger().info("second")  # must not write to the closed stream
    assert '"event": "second"' in after.getvalue()


def _events(buf: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


def test_nested_keys_and_free_text_are_redacted() -> None:
    buf = io.StringIO()
    configure_logging("json", "info", stream=buf)
    get_logger().warning(
        "remote refused",
        detail={"pupil": {"snils": "112-233-445 95", "class": "5А"}, "rows": [{"fio": "x"}]},
        error="1 validation error\n  input_value='Иванова Анна Петровна'",
    )
    [event] = _events(buf)
    assert event["detail"] == {
        "pupil": {"snils": REDACTED, "class": "5А"},
        "rows": [{"fio": REDACTED}],
    }
    assert "Иванова" not in buf.getvalue() and "445" not in buf.getvalue()
    assert "validation error" in str(event["error"])


def test_a_burst_of_the_same_refusal_ends_with_n_more_like_this() -> None:
    buf = io.StringIO()
    configure_logging("json", "info", stream=buf)
    log = get_logger("sync.pull")
    for n in range(40):
        log.warning("record rejected", entity="marks", record=f"es2:{n}", reason="bad value")
    log.warning("record rejected", entity="marks", record="es2:99", reason="another rule")
    log.info("pull finished", status="partial")
    events = _events(buf)
    shown = [e for e in events if e["event"] == "record rejected"]
    assert [e["record"] for e in shown] == ["es2:0", "es2:1", "es2:2", "es2:99"]
    [summary] = [e for e in events if "more like this" in str(e["event"])]
    assert summary["event"] == "37 more like this" and summary["like"] == "record rejected"
    assert summary["reason"] == "bad value" and summary["level"] == "warning"
    # the summary comes where the burst ended: before the next, different event
    assert [e["event"] for e in events] == [
        *["record rejected"] * 3,
        "37 more like this",
        "record rejected",
        "pull finished",
    ]


def test_a_burst_still_held_is_written_by_flush() -> None:
    from schoolgate.logs import flush_bursts

    buf = io.StringIO()
    configure_logging("json", "info", stream=buf)
    for n in range(5):
        get_logger().warning("record rejected", record=str(n), reason="x")
    flush_bursts()
    assert _events(buf)[-1]["event"] == "2 more like this"


def test_debug_logs_requests_without_credentials_or_secret_parameters() -> None:
    import httpx

    buf = io.StringIO()
    configure_logging("json", "debug", stream=buf)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": []})

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        client.get("http://gw:s3cret@127.0.0.1:9/api/marks?page=2&access_token=t0k&login=ivanov")
    [request] = [e for e in _events(buf) if e["event"] == "request"]
    assert request["level"] == "debug" and request["method"] == "GET" and request["status"] == 200
    assert "/api/marks" in str(request["url"]) and "page=2" in str(request["url"])
    for secret in ("s3cret", "t0k", "ivanov", "gw:"):
        assert secret not in buf.getvalue()
    # at info, requests are not logged
    quiet = io.StringIO()
    configure_logging("json", "info", stream=quiet)
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        client.get("http://127.0.0.1:9/api/marks")
    assert "request" not in quiet.getvalue()
