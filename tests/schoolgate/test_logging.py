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
