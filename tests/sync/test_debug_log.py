"""``--log-level debug`` follows a run — requests, pages, decisions, push batches — without a
word of personal data."""

from __future__ import annotations

import io
import json

from schoolgate.logs import configure_logging
from tests.sync.conftest import pull
from tests.sync.crash_helpers import write_local_marks
from tests.sync.push_faults import push_with
from tests.sync.worlds import World


def test_debug_logs_requests_pages_and_decision_counts_but_no_personal_data(
    world: World,
) -> None:
    buf = io.StringIO()
    configure_logging("json", "debug", stream=buf)
    try:
        assert pull(world).status == "success"
        write_local_marks(world, 2, 0)
        assert push_with(world)[0].status == "success"
    finally:
        configure_logging("json", "info", stream=io.StringIO())
    events = [json.loads(line) for line in buf.getvalue().splitlines()]
    by_event: dict[str, list[dict[str, object]]] = {}
    for e in events:
        by_event.setdefault(str(e["event"]), []).append(e)

    requests = by_event["request"]
    assert {e["method"] for e in requests} >= {"GET", "POST"}
    assert all(str(e["url"]).startswith("http://127.0.0.1") for e in requests)
    pages = by_event["page"]
    assert {e["entity"] for e in pages} >= {"pupils", "lessons", "marks"}
    assert sum(int(str(e["records"])) for e in pages if e["entity"] == "marks") == len(
        world.school.marks
    )
    decisions = [e for e in by_event["decisions"] if e["entity"] == "marks"]
    assert sum(int(str(e.get("created", 0))) for e in decisions) == len(world.school.marks)
    assert [e["entity"] for e in by_event["sending"]] == ["marks"]
    assert by_event["batch answered"][0]["created"] == 2

    text = buf.getvalue()
    for pupil in world.school.pupils:
        assert pupil.last_name not in text, "a pupil's name reached the debug log"
        if pupil.snils:
            assert pupil.snils not in text
        assert pupil.birth_date.isoformat() not in text
