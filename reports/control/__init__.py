"""The journal-control report for deputy directors: the checks of ``shared/domain.md`` per
class, subject and teacher over a period or a month — pure checks (:mod:`.checks`) over rows of
the read side (:mod:`store.queries.control`), one view (:mod:`.view`) rendered to HTML, XLSX,
JSON and CSV (:mod:`.output`)."""

from reports.control.engine import ControlRun, run_control
from reports.control.model import SECTIONS, ControlResult, CourseStats, Finding
from reports.control.output import FORMATS, control_fragment, write_control
from reports.control.scope import ControlScope, resolve_scope
from reports.control.settings import ControlSettings

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
