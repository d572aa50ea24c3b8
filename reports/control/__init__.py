"""The journal-control report for deputy directors: the checks of ``shared/domain.md`` per
class, subject and teacher over a period or a month — pure checks (:mod:`.checks`) over rows of
the read side (:mod:`store.queries.control`), one view (:mod:`.view`) rendered to HTML, XLSX,
JSON and CSV (:mod:`.output`).

The names below are loaded when first asked for (PEP 562): the configuration imports
:mod:`.settings` in every process — a pull too — and that must not load the renderers (XLSX,
images: about 15 MB resident, a tenth of a pull's memory bar; see docs/performance.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reports.control.engine import ControlRun, run_control
    from reports.control.model import SECTIONS, ControlResult, CourseStats, Finding
    from reports.control.output import FORMATS, control_fragment, write_control
    from reports.control.scope import ControlScope, resolve_scope
    from reports.control.settings import ControlSettings

#: exported name → the submodule defining it
_WHERE = {
    "ControlRun": "engine",
    "run_control": "engine",
    "SECTIONS": "model",
    "ControlResult": "model",
    "CourseStats": "model",
    "Finding": "model",
    "FORMATS": "output",
    "control_fragment": "output",
    "write_control": "output",
    "ControlScope": "scope",
    "resolve_scope": "scope",
    "ControlSettings": "settings",
}

__all__ = [
    "FORMATS",
    "SECTIONS",
    "ControlResult",
    "ControlRun",
    "ControlScope",
    "ControlSettings",
    "CourseStats",
    "Finding",
    "control_fragment",
    "resolve_scope",
    "run_control",
    "write_control",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{where}"), name)
    globals()[name] = value
    return value
