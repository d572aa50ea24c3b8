"""``schoolgate control``: the journal-control report of a school for a period or a month, as
HTML, XLSX, JSON or CSV (``reports.control``); norms and thresholds from ``[control]``, mark
deadlines from ``[sync]``, dates in the school's time zone."""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Annotated

import typer

from core.errors import ConfigError
from reports.control import FORMATS, write_control
from schoolgate import runner
from schoolgate.cli._common import (
    ConfigOpt,
    SchoolOpt,
    console,
    open_store,
    reported_errors,
    require_config,
)
from schoolgate.config import GatewayConfig, SchoolConfig

PeriodOpt = Annotated[
    str | None, typer.Option("--period", help='a marking period by name, e.g. "I четверть"')
]
MonthOpt = Annotated[
    str | None, typer.Option("--month", help="a calendar month, YYYY-MM (default: this month)")
]
FormatOpt = Annotated[str, typer.Option("--format", help="html, xlsx, json or csv")]
OutOpt = Annotated[Path, typer.Option("--out", help="the file to write", show_default=False)]


def pick_school(config: GatewayConfig, school: str | None) -> SchoolConfig:
    """The school named, or the only one configured."""
    if school is not None:
        return config.school(school)
    if len(config.schools) == 1:
        return config.schools[0]
    ids = ", ".join(s.id for s in config.schools)
    raise ConfigError(f"several schools are configured ({ids}): pass --school")


def register(app: typer.Typer) -> None:
    @app.command("control")
    def control(
        out: OutOpt,
        fmt: FormatOpt = "html",
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        period: PeriodOpt = None,
        month: MonthOpt = None,
    ) -> None:
        """Контроль ведения журнала: ученики без отметок и с одной отметкой, накопляемость,
        уроки без темы и домашнего задания, пропуски без причины, поздние и исправленные
        отметки, отметки за период не по текущим, замены — по классам, предметам и учителям."""
        with reported_errors():
            if fmt not in FORMATS:
                raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
            cfg = require_config(config)
            sc = pick_school(cfg, school)
            with open_store(cfg) as store:
                run = write_control(
                    store,
                    sc.id,
                    fmt,
                    out,
                    period=period,
                    month=month,
                    settings=cfg.control,
                    deadlines=runner.deadlines_of(cfg, sc.id),
                    tz=zoneinfo.ZoneInfo(sc.timezone),
                    school_name=sc.name,
                )
        r = run.result
        console.print(
            f"Контроль журнала — {sc.name}, {run.scope.label}: уроков {r.lessons}, "
            f"замечаний {r.problems}.",
            highlight=False,
        )
        console.print(f"Отчёт записан: {out}", highlight=False)
