"""``schoolgate journal-print``: the paper class journal of a class for a period (HTML with print
CSS, or PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reports.errors import ReportError
from reports.journal_print import FORMATS, write_journal
from schoolgate.cli._common import (
    ConfigOpt,
    SchoolOpt,
    config_or_default,
    console,
    open_store,
    reported_errors,
)
from schoolgate.cli.reconcile_cmd import school_look, school_of


def register(app: typer.Typer) -> None:
    @app.command("journal-print")
    def journal_print(
        class_name: Annotated[str, typer.Option("--class", help="the class, e.g. 5А")],
        period: Annotated[str, typer.Option("--period", help="the period, e.g. «I четверть»")],
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="html or pdf")] = "html",
        out: Annotated[
            Path | None, typer.Option("--out", help="the file (default: journal-CLASS.FORMAT)")
        ] = None,
    ) -> None:
        """The class journal for a period as the school files it on paper: class list, marks by
        date per subject, period marks, absences, topics and homework, a signature line."""
        with reported_errors():
            if fmt not in FORMATS:
                raise ReportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
            cfg = config_or_default(config)
            # a school the configuration does not name is read from the store by its id
            school_id = school if school and not cfg.schools else school_of(cfg, school)
            tz, name = school_look(cfg, school_id)
            store = open_store(cfg)
            with store:
                path = out or Path(f"journal-{class_name}.{fmt}")
                journal = write_journal(
                    store, school_id, class_name, period, fmt, path, tz=tz, school_name=name
                )
            console.print(
                f"Классный журнал {journal.class_name} класса, {journal.period_name} "
                f"({journal.span}): {len(journal.pupils)} учеников, "
                f"{len(journal.subjects)} предметов, {journal.lesson_count} уроков → {path}",
                highlight=False,
            )
