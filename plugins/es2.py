"""«Электронная школа 2.0»: REST/JSON with cursor pages (``shared/specs/es2.md``)."""

from __future__ import annotations

from connectors.es2 import ES2Connector
from mapping import es2
from mapping.mapper import FunctionMapper, Mapper
from mapping.profile import shipped_profile
from plugins.contract import MapperContext, SystemPlugin


def _mapper(ctx: MapperContext) -> Mapper:
    return FunctionMapper(
        "es2",
        ctx.profile,
        ctx.school_id,
        to_canonical=es2.to_canonical,
        to_wire=es2.to_wire,
    )


PLUGIN = SystemPlugin(
    name="es2",
    title="«Электронная школа 2.0»",
    connector=ES2Connector,
    mapper=_mapper,
    profile=shipped_profile("es2"),
)
