"""The ``[control]`` table of the configuration: the norms and thresholds of the journal-control
report. Defaults follow ``shared/domain.md`` and the usual school regulations::

    [control]
    min_marks_per_quarter = { 1 = 3, 2 = 5, 3 = 7 }  # marks a pupil should have per quarter,
                                                    # by the subject's weekly hours
    quarter_weeks = 9            # a quarter's length the norm above is given for
    accumulation_ok = 0.9        # share of pupils at the norm from which a class×subject is ok
    accumulation_bad = 0.7       # … and below which it is bad (warning between)
    share_bad = 0.1              # pupils without marks, lessons without topic …: 0 is ok, up to
                                 # this share a warning, above it bad
    count_bad = 3                # late, corrected marks, odd period marks: 0 ok, 1–2 a warning
    absence_reason_days = 7      # an «Н» younger than this may still get its reason
    period_mark_round_up = 0.5   # the average's fraction from which a period mark rounds up
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Paint = Literal["good", "warn", "bad"]


class ControlSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: weekly hours → current marks a pupil should have in a quarter (the highest key not above
    #: the subject's hours applies)
    min_marks_per_quarter: dict[int, int] = Field(default_factory=lambda: {1: 3, 2: 5, 3: 7})
    quarter_weeks: int = Field(default=9, ge=1, le=20)
    accumulation_ok: float = Field(default=0.9, ge=0, le=1)
    accumulation_bad: float = Field(default=0.7, ge=0, le=1)
    share_bad: float = Field(default=0.1, ge=0, le=1)
    count_bad: int = Field(default=3, ge=1)
    absence_reason_days: int = Field(default=7, ge=0, le=60)
    period_mark_round_up: float = Field(default=0.5, gt=0, lt=1)

    @field_validator("min_marks_per_quarter")
    @classmethod
    def _norms(cls, v: dict[int, int]) -> dict[int, int]:
        if not v or min(v) < 1 or any(n < 1 for n in v.values()):
            raise ValueError("give at least one 'hours = marks' pair, both 1 or more")
        return dict(sorted(v.items()))

    @model_validator(mode="after")
    def _order(self) -> ControlSettings:
        if self.accumulation_bad > self.accumulation_ok:
            raise ValueError("accumulation_bad must not be above accumulation_ok")
        return self

    # -- the norms -------------------------------------------------------------------------
    def quarter_norm(self, weekly_hours: int) -> int:
        """Marks per quarter for a subject of ``weekly_hours`` hours a week."""
        fitting = [n for h, n in self.min_marks_per_quarter.items() if h <= max(1, weekly_hours)]
        return fitting[-1] if fitting else next(iter(self.min_marks_per_quarter.values()))

    def norm(self, weekly_hours: int, weeks: int) -> int:
        """Marks a pupil should have after ``weeks`` school weeks: the quarter's norm in
        proportion, rounded up, at least 1."""
        return max(1, math.ceil(self.quarter_norm(weekly_hours) * weeks / self.quarter_weeks))

    # -- paints ----------------------------------------------------------------------------
    def paint_accumulation(self, share: float | None) -> Paint | None:
        if share is None:
            return None
        if share >= self.accumulation_ok:
            return "good"
        return "warn" if share >= self.accumulation_bad else "bad"

    def paint_share(self, n: int, of: int) -> Paint:
        """Problems ``n`` of ``of`` (pupils, lessons): none ok, a few a warning, many bad."""
        if n <= 0:
            return "good"
        return "bad" if of and n / of > self.share_bad else "warn"

    def paint_count(self, n: int) -> Paint:
        if n <= 0:
            return "good"
        return "bad" if n >= self.count_bad else "warn"
