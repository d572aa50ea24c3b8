"""«О7.Образование – Электронная школа»: session-cookie RPC, date windows, marks/absences pushes.

Public: the connector and its session, the school year it reads, the cut of a year into date
windows, and О7's spellings of dates and local times (the mapping reads them).
"""

from connectors.o7._connector import O7Connector, school_year
from connectors.o7._session import O7Session
from connectors.o7._windows import (
    format_date,
    format_local_time,
    parse_date,
    parse_local_time,
    year_windows,
)

__all__ = [
    "O7Connector",
    "O7Session",
    "format_date",
    "format_local_time",
    "parse_date",
    "parse_local_time",
    "school_year",
    "year_windows",
]
