"""АСИОУ: windows-1251 XML packages with asynchronous imports (``shared/specs/asiou.md``)."""

from __future__ import annotations

from connectors.asiou import AsiouConnector
from mapping import asiou
from mapping.mapper import FunctionMapper, Mapper
from mapping.profile import shipped_profile
from plugins.contract import MapperContext, SystemPlugin


def _mapper(ctx: MapperContext) -> Mapper:
    return FunctionMapper(
        "asiou",
        ctx.profile,
        ctx.school_id,
        to_canonical=asiou.to_canonical,
        to_wire=asiou.to_wire,
    )


PLUGIN = SystemPlugin(
    name="asiou",
    title="АСИОУ",
    connector=AsiouConnector,
    mapper=_mapper,
    profile=shipped_profile("asiou"),
)
