"""Pushes to О7 are keyed by the record, not by its version: an edited mark updates the mark О7
holds (issue 12.11), while every result is answered under the outbox's own key."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import PushItem
from connectors.o7 import O7Connector, O7Session
from core.entities import Entity
from tests.connectors.o7.conftest import Wire


class Marks:
    """What О7 holds: one mark per ``ext_id`` (the contract: a repeat updates, never doubles)."""

    def __init__(self) -> None:
        self.held: dict[str, dict[str, Any]] = {}
        self.bodies: list[list[dict[str, Any]]] = []

    def save(self, body: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append(body["marks"])
        saved, errors = [], []
        for mark in body["marks"]:
            if mark["mark"] == "7":
                errors.append({"ext_id": mark["ext_id"], "message": "Недопустимая отметка"})
                continue
            self.held[mark["ext_id"]] = mark
            saved.append({"ext_id": mark["ext_id"], "mark_guid": "g-" + mark["ext_id"]})
        return {"saved": saved, "errors": errors}


@pytest.fixture
def marks(wire: Wire) -> Marks:
    held = Marks()
    wire.handlers["MarkService/SaveMarks"] = held.save
    return held


@pytest.fixture
def connector(session: O7Session) -> O7Connector:
    import datetime as dt

    return O7Connector(
        session, school_id="s1", year_start=dt.date(2025, 9, 1), year_end=dt.date(2025, 10, 31)
    )


def version(
    key: str, value: str, record: str | None = "rec-1", remote: str | None = None
) -> PushItem:
    payload = {"pupil_guid": "p", "lesson_guid": "l", "mark": value, "mark_type": "Ответ"}
    return PushItem(key, Entity.MARKS, "upsert", payload, remote_id=remote, record_key=record)


def test_an_edited_mark_updates_the_one_o7_holds(marks: Marks, connector: O7Connector) -> None:
    first = connector.push(Entity.MARKS, [version("v1", "4")])
    second = connector.push(Entity.MARKS, [version("v2", "5", remote="g-rec-1")])
    assert [m["mark"] for m in marks.held.values()] == ["5"]  # one mark, the new value
    assert [b[0]["ext_id"] for b in marks.bodies] == ["rec-1", "rec-1"]
    assert (first[0].key, first[0].status, first[0].remote_id) == ("v1", "created", "g-rec-1")
    assert (second[0].key, second[0].status, second[0].remote_id) == ("v2", "updated", "g-rec-1")


def test_versions_of_one_record_in_one_batch_are_sent_once_and_each_answered(
    marks: Marks, connector: O7Connector
) -> None:
    items = [version("v1", "4"), version("w1", "3", record="rec-2"), version("v2", "5")]
    results = connector.push(Entity.MARKS, items)
    assert marks.bodies == [
        [
            {
                "pupil_guid": "p",
                "lesson_guid": "l",
                "mark": "5",
                "mark_type": "Ответ",
                "ext_id": "rec-1",
            },
            {
                "pupil_guid": "p",
                "lesson_guid": "l",
                "mark": "3",
                "mark_type": "Ответ",
                "ext_id": "rec-2",
            },
        ]
    ]
    assert [(r.key, r.status, r.remote_id) for r in results] == [
        ("v1", "created", "g-rec-1"),
        ("w1", "created", "g-rec-2"),
        ("v2", "created", "g-rec-1"),
    ]


def test_a_refusal_of_the_record_answers_each_of_its_versions(
    marks: Marks, connector: O7Connector
) -> None:
    results = connector.push(Entity.MARKS, [version("v1", "4"), version("v2", "7")])
    assert [(r.key, r.status, r.error) for r in results] == [
        ("v1", "rejected", "Недопустимая отметка"),
        ("v2", "rejected", "Недопустимая отметка"),
    ]
    assert marks.held == {}


def test_an_item_without_a_record_key_is_sent_under_its_own(
    marks: Marks, connector: O7Connector
) -> None:
    results = connector.push(Entity.MARKS, [version("k1", "5", record=None)])
    assert marks.bodies[0][0]["ext_id"] == "k1"
    assert results[0].key == "k1" and results[0].status == "created"


def test_absences_are_keyed_by_the_record_too(wire: Wire, connector: O7Connector) -> None:
    sent: list[dict[str, Any]] = []

    def save(body: dict[str, Any]) -> dict[str, Any]:
        sent.extend(body["absences"])
        return {"saved": [{"ext_id": a["ext_id"], "absence_guid": "a1"} for a in body["absences"]]}

    wire.handlers["AttendanceService/SaveAbsences"] = save
    item = PushItem("k9", Entity.ATTENDANCE, "upsert", {"reason": "Б"}, record_key="sg-r-absence")
    result = connector.push(Entity.ATTENDANCE, [item])
    assert sent[0]["ext_id"] == "sg-r-absence"
    assert (result[0].key, result[0].remote_id) == ("k9", "a1")
