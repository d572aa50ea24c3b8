"""«О7.Образование»: session RPC, date windows diffed locally (``shared/specs/o7.md``)."""

from __future__ import annotations

from connectors.o7 import O7Connector, school_year
from mapping.mapper import Mapper
from mapping.o7 import O7Mapper
from mapping.profile import shipped_profile
from plugins.contract import MapperContext, SystemPlugin


def _mapper(ctx: MapperContext) -> Mapper:
    """О7 names teachers, subjects and subgroups instead of giving ids: its mapping resolves them
    against the roster; classes are named without their year, which comes from the configured
    school year."""
    first = school_year(ctx.settings.options)[0].year
    return O7Mapper(ctx.profile, ctx.school_id, f"{first}/{first + 1}", ctx.roster)


PLUGIN = SystemPlugin(
    name="o7",
    title="«О7.Образование»",
    connector=O7Connector,
    mapper=_mapper,
    profile=shipped_profile("o7"),
    needs_roster=True,
)
