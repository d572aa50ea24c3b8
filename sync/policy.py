"""What the sync engine is told about one system: per entity the direction and the conflict
policy, and the run's settings. Values, validated once (pydantic); the application's
configuration file is made of them, the engine reads nothing else of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sync.rules import WRITTEN_WORK, Deadlines, written_work

Direction = Literal["pull", "push", "both", "off"]
ConflictPolicy = Literal["source-wins", "local-wins", "newer-wins", "manual"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntityPolicy(_Strict):
    """Per system × entity: the direction of sync and how conflicts are resolved.

    When both sides changed a field since they last agreed, the field's policy decides: a
    per-field entry in ``fields``, else ``conflict``, else the owner's side — ``source-wins`` when
    the external system owns the entity (say, the roster from АСИОУ), ``local-wins`` when the
    local journal does (say, marks entered here).
    """

    direction: Direction = "pull"
    #: the side that owns this entity: the external system ("source") or the local journal
    owner: Literal["source", "local"] = "source"
    conflict: ConflictPolicy | None = None
    #: per-field overrides of ``conflict``
    fields: dict[str, ConflictPolicy] = Field(default_factory=dict)

    @property
    def default_policy(self) -> ConflictPolicy:
        if self.conflict is not None:
            return self.conflict
        return "source-wins" if self.owner == "source" else "local-wins"

    def policy_for(self, field: str) -> ConflictPolicy:
        return self.fields.get(field, self.default_policy)


class SyncSettings(_Strict):
    #: a pull that would deactivate more than this share of a school's pupils is held
    hold_pupil_share: float = Field(default=0.10, ge=0, le=1)
    #: days allowed for entering marks, by grade band (domain rule 2)
    mark_deadline_days_2_9: int = Field(default=5, ge=0)
    mark_deadline_days_10_11: int = Field(default=7, ge=0)
    #: records applied per transaction (with their checkpoint) on a pull
    chunk_size: int = Field(default=10_000, ge=1)

    def deadlines(self, timezone: dt.tzinfo, written: Iterable[str] | None = None) -> Deadlines:
        """The mark deadlines in the school's time zone, for the ``written`` work types (the
        mapping profile's list; by default :data:`sync.rules.WRITTEN_WORK`)."""
        return Deadlines(
            self.mark_deadline_days_2_9,
            self.mark_deadline_days_10_11,
            timezone,
            written_work(WRITTEN_WORK if written is None else written),
        )
