"""What a report is, whatever its format: a title, lines of text a person reads first, and tables
(each a sheet in XLSX, a block in CSV); cells a threshold paints; charts for XLSX's chart sheets.
The HTML of each report has a template of its own; the JSON of each report is its own dict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

CellKind = Literal["text", "int", "date", "ratio", "number"]
Cell = str | int | float | dt.date | None

#: paint names → colours (background, as Excel and the HTML use them)
PAINT = {"bad": "F4C7C3", "warn": "FCE8B2", "good": "D9EAD3", "new": "FFF2CC", "muted": "EFEFEF"}


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    width: int = 14
    kind: CellKind = "text"


@dataclass
class Table:
    """One table: ``rows`` are lists of cells in column order (an iterable read once: a large
    table streams). ``paint(row)`` names the columns to paint and how."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Cell]]
    paint: Callable[[Sequence[Cell]], dict[int, str]] | None = None
    #: a colour scale over these columns (a heat map): (first column index, last)
    scale: tuple[int, int] | None = None
    scale_range: tuple[float, float] = (0.0, 1.0)
    note: str = ""


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart sheet: bars of ``table``'s value columns (``series``) per row (``categories``:
    the column of labels)."""

    name: str
    title: str
    table: str
    categories: int
    series: tuple[int, int]
    stacked: bool = False
    y_title: str = ""
    x_title: str = ""


@dataclass
class Document:
    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
