"""The direction check every system's job runs at start, against each plugin's capabilities."""

from __future__ import annotations

import pytest

import plugins
from connectors.base import ConnectorSettings
from core.entities import Entity
from core.errors import ConfigError
from sync.jobs import SystemSetup, check_directions
from sync.policy import EntityPolicy


def _setup(system: str, requested: dict[Entity, str]) -> SystemSetup:
    return SystemSetup(
        school_id="sch1",
        system=system,
        connector=ConnectorSettings(system, "http://127.0.0.1:1", "1"),
        policies={e: EntityPolicy(direction=d) for e, d in requested.items()},  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("system", "requested", "bad"),
    [
        ("o7", {Entity.MARKS: "both", Entity.ATTENDANCE: "push", Entity.PUPILS: "pull"}, None),
        ("o7", {Entity.LESSONS: "off", Entity.PUPILS: "off"}, None),
        ("o7", {Entity.PUPILS: "push"}, ["o7 takes no writes of pupils"]),
        ("o7", {Entity.LESSONS: "both"}, ["o7 takes no writes of lessons"]),
        (
            "o7",
            {Entity.CLASSES: "push", Entity.ENROLMENTS: "pull"},
            ["o7 takes no writes of classes", "o7 cannot be read for enrolments"],
        ),
        ("es2", {Entity.MARKS: "both", Entity.PUPILS: "both"}, None),
        ("es2", {Entity.SUBJECTS: "push"}, ["es2 takes no writes of subjects"]),
        ("asiou", {Entity.PUPILS: "both", Entity.LESSONS: "both"}, None),
        ("asiou", {Entity.SCHOOLS: "pull"}, ["asiou cannot be read for schools"]),
    ],
)
def test_a_direction_a_system_cannot_serve_fails_at_start_naming_each(
    system: str, requested: dict[Entity, str], bad: list[str] | None
) -> None:
    caps = plugins.load(system).connector.declared_capabilities()
    setup = _setup(system, requested)
    if bad is None:
        check_directions(setup, caps)
        return
    with pytest.raises(ConfigError) as err:
        check_directions(setup, caps)
    for problem in bad:
        assert problem in str(err.value)
    assert f"schools[sch1].systems.{system}.entities" in str(err.value)


def test_an_unknown_direction_is_refused_by_the_policy_itself() -> None:
    with pytest.raises(ValueError, match="direction"):
        EntityPolicy(direction="sideways")  # type: ignore[arg-type]
