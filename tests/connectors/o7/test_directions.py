from __future__ import annotations

import pytest

from connectors.o7 import CAPABILITIES, validate_directions
from core.entities import Entity
from core.errors import ConfigError


@pytest.mark.parametrize(
    ("requested", "bad"),
    [
        ({Entity.MARKS: "both", Entity.ATTENDANCE: "push", Entity.PUPILS: "pull"}, None),
        ({Entity.LESSONS: "off"}, None),
        ({Entity.PUPILS: "push"}, "pupils"),
        ({Entity.LESSONS: "both"}, "lessons"),
        ({Entity.MARKS: "both", Entity.CLASSES: "push"}, "classes"),
        ({Entity.ENROLMENTS: "pull"}, "enrolments"),
        ({Entity.MARKS: "sideways"}, "unknown direction"),
    ],
)
def test_directions(requested: dict[Entity, str], bad: str | None) -> None:
    if bad is None:
        validate_directions(CAPABILITIES, requested)
    else:
        with pytest.raises(ConfigError, match=bad):
            validate_directions(CAPABILITIES, requested)
