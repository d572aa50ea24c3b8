"""«О7.Образование – Электронная школа»: session-cookie RPC, date windows, marks/absences pushes."""

from connectors.o7._classify import Action, Verdict, classify_exception, classify_response
from connectors.o7._connector import (
    CAPABILITIES,
    WINDOW_CALLS,
    O7Connector,
    default_year,
    school_year,
)
from connectors.o7._push import MAX_BATCH, PUSH_CALLS, push_batch
from connectors.o7._scan import NameScan
from connectors.o7._session import O7Session, login_refusal
from connectors.o7._windows import (
    MAX_WINDOW_DAYS,
    Window,
    format_date,
    format_local_time,
    parse_date,
    parse_local_time,
    recent_windows,
    year_windows,
)

__all__ = [
    "CAPABILITIES",
    "MAX_BATCH",
    "MAX_WINDOW_DAYS",
    "PUSH_CALLS",
    "WINDOW_CALLS",
    "Action",
    "NameScan",
    "O7Connector",
    "O7Session",
    "Verdict",
    "Window",
    "classify_exception",
    "classify_response",
    "default_year",
    "format_date",
    "format_local_time",
    "login_refusal",
    "parse_date",
    "parse_local_time",
    "push_batch",
    "recent_windows",
    "school_year",
    "year_windows",
]
