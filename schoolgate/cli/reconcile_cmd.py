"""``schoolgate reconcile``: read a system afresh, compare it with the store, write the report;
``schoolgate reports list|show``: the stored reconciliations, and what changed since the previous
one of the same scope. Messages for deputy directors are in Russian."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from core.entities import Entity
from core.errors import ConfigError, GatewayError
from reports import text
from reports.errors import ReportError
from reports.reconcile import Request, reconcile
from reports.reconcile.output import FORMATS, write_reconciliation
from reports.reconcile.scope import window_for
from reports.reconcile.view import SECTIONS, ReconciliationView, Row
from schoolgate.cli._common import (
    ConfigOpt,
    LimitOpt,
    SchoolOpt,
    SystemOpt,
    config_or_default,
    console,
    err_console,
    more_line,
    open_store,
    reported_errors,
    require_config,
)
from schoolgate.config import GatewayConfig
from store import Paging, Reconciliation, ReconciliationFilter, Store
from sync import jobs

DEFAULT_TZ = "Europe/Moscow"
#: rows «new since» and «gone since» shown by ``reports show`` in the terminal
SHOWN = 20

FormatOpt = Annotated[str, typer.Option("--format", "-f", help="html, xlsx, json or csv")]


def school_of(cfg: GatewayConfig, school: str | None) -> str:
    """The school asked for, or the only one configured."""
    if school is not None:
        return cfg.school(school).id
    if len(cfg.schools) == 1:
        return cfg.schools[0].id
    if not cfg.schools:
        raise ConfigError("no school is configured: pass --config FILE or --school ID")
    raise ConfigError(
        "the configuration names several schools: say which with --school "
        + "(" + ", ".join(s.id for s in cfg.schools) + ")"
    )  # fmt: skip


def school_look(cfg: GatewayConfig, school_id: str) -> tuple[dt.tzinfo, str]:
    """A school's time zone and name (a school no longer configured: Moscow time, its id)."""
    for s in cfg.schools:
        if s.id == school_id:
            return text.zone(s.timezone), s.name
    return text.zone(DEFAULT_TZ), school_id


def entities_of(names: list[str] | None) -> frozenset[Entity] | None:
    if not names:
        return None
    out = set()
    for name in names:
        try:
            out.add(Entity(name))
        except ValueError:
            known = ", ".join(e.value for e in Entity)
            raise ReportError(f"unknown entity {name!r}: use one of {known}") from None
    return frozenset(out)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return fmt


def print_summary(view: ReconciliationView) -> None:
    """The lines a deputy director reads first, and the count of each section."""
    style = "red" if view.differences else "green"
    if view.rec.status != "done":
        style = "red"
    console.print(f"[bold {style}]{escape(view.verdict)}[/]", highlight=False)
    for line in view.lines()[1:]:
        console.print(escape(line), highlight=False)
    if view.differences:
        table = Table("раздел", "расхождений", "новых с прошлой сверки", title="Расхождения")
        new = view.new_per_section()
        for s in SECTIONS:
            n = view.sections.get(s, 0)
            if n:
                table.add_row(text.SECTION[s], f"{n:,}", f"{new.get(s, 0):,}")
        console.print(table)


def _reconcile(
    cfg: GatewayConfig,
    school_id: str,
    system: str,
    request: Request,
) -> tuple[Store, int, str | None]:
    """Run the reconciliation: the store, its id, and the error when the read failed."""
    setup = cfg.school(school_id).setup(system)
    jobs.preflight(setup)
    store = open_store(cfg)
    try:
        with store.read() as tx:  # an unknown class or period: an error before any read
            window_for(request, tx.queries.roster(school_id))
        job = jobs.open_job(store, setup)
        try:
            outcome = reconcile(store, job, request)
        except ReportError:
            raise
        except GatewayError as exc:
            with store.read() as tx:
                found = tx.queries.reconciliations(
                    ReconciliationFilter(school_id=school_id, system=system), Paging(1)
                ).items
            return store, found[0].id if found else 0, str(exc)
        finally:
            job.close()
    except BaseException:
        store.close()
        raise
    return store, outcome.id, None


def register(app: typer.Typer) -> None:
    @app.command("reconcile")
    def reconcile_cmd(
        system: Annotated[str, typer.Option("--system", help="es2, asiou or o7")],
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        entity: Annotated[
            list[str] | None, typer.Option("--entity", help="only these entities (repeat)")
        ] = None,
        class_name: Annotated[
            str | None, typer.Option("--class", help="one class, e.g. 5А")
        ] = None,
        period: Annotated[
            str | None, typer.Option("--period", help="one period, e.g. «I четверть»")
        ] = None,
        fmt: FormatOpt = "html",
        out: Annotated[
            Path | None,
            typer.Option("--out", help="the report file (default: reconciliation-ID.FORMAT)"),
        ] = None,
    ) -> None:
        """Read a system afresh and completely, compare it with the store (nothing is applied),
        store the differences and write the report. Exit 0 with or without differences; 1 when
        the system could not be read."""
        with reported_errors():
            check_format(fmt)
            cfg = require_config(config)
            school_id = school_of(cfg, school)
            tz, name = school_look(cfg, school_id)
            request = Request(entities_of(entity), class_name, period)
            store, rid, error = _reconcile(cfg, school_id, system, request)
            with store:
                if error is not None:
                    err_console.print(
                        f"[bold red]Сверка № {rid} не выполнена:[/] система "
                        f"{escape(text.system_name(system))} не прочитана: {escape(error)}",
                        highlight=False,
                    )
                    raise typer.Exit(1)
                path = out or Path(f"reconciliation-{rid}.{fmt}")
                write_reconciliation(store, rid, fmt, path, tz=tz, school_name=name)
                with store.read() as tx:
                    rec = tx.queries.reconciliation(rid)
                    assert rec is not None
                    view = ReconciliationView(tx, rec, tz=tz, school_name=name)
                    console.print(f"[bold]{escape(view.title)}[/]", highlight=False)
                    print_summary(view)
                console.print(f"Отчёт: {path} (сверка № {rid})", highlight=False)

    reports = typer.Typer(help="Stored reports: reconciliations.", no_args_is_help=True)
    app.add_typer(reports, name="reports")

    @reports.command("list")
    def list_cmd(
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        system: SystemOpt = None,
        limit: LimitOpt = 20,
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
    ) -> None:
        """Stored reconciliations, newest first, with their differences and what changed since
        the previous reconciliation of the same scope."""
        with reported_errors():
            cfg = config_or_default(config)
            store = open_store(cfg)
            with store, store.read() as tx:
                page = tx.queries.reconciliations(
                    ReconciliationFilter(school_id=school, system=system), Paging(limit)
                )
            if as_json:
                payload = {
                    "total": page.total,
                    "items": [listing_json(cfg, r) for r in page.items],
                }
                typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
                return
            if not page.items:
                console.print("Сверок ещё не было: их делает `schoolgate reconcile`.")
                return
            console.print(listing_table(cfg, page.items))
            more = more_line(len(page.items), page.total, "reconciliations")
            if more:
                console.print(more)

    @reports.command("show")
    def show_cmd(
        report_id: Annotated[int, typer.Argument(help="the reconciliation's number")],
        config: ConfigOpt = None,
        fmt: Annotated[
            str, typer.Option("--format", "-f", help="text (here), html, xlsx, json or csv")
        ] = "text",
        out: Annotated[Path | None, typer.Option("--out", help="the report file")] = None,
    ) -> None:
        """One reconciliation: its summary and what changed since the previous one of the same
        scope (here), or written in a format (``--format``)."""
        with reported_errors():
            cfg = config_or_default(config)
            store = open_store(cfg)
            with store:
                with store.read() as tx:
                    rec = tx.queries.reconciliation(report_id)
                if rec is None:
                    raise ReportError(
                        f"no reconciliation {report_id}: see `schoolgate reports list`"
                    )
                tz, name = school_look(cfg, rec.school_id)
                if fmt != "text":
                    check_format(fmt)
                    path = out or Path(f"reconciliation-{report_id}.{fmt}")
                    write_reconciliation(store, report_id, fmt, path, tz=tz, school_name=name)
                    console.print(f"Отчёт: {path} (сверка № {report_id})", highlight=False)
                    return
                with store.read() as tx:
                    view = ReconciliationView(tx, rec, tz=tz, school_name=name)
                    console.print(f"[bold]{escape(view.title)}[/]", highlight=False)
                    print_summary(view)
                    print_since(view)


def _since(rec: Reconciliation) -> dict[str, Any] | None:
    since: dict[str, Any] | None = rec.summary.get("since")
    return since


def listing_json(cfg: GatewayConfig, rec: Reconciliation) -> dict[str, Any]:
    tz, name = school_look(cfg, rec.school_id)
    return {
        "id": rec.id,
        "school": rec.school_id,
        "school_name": name,
        "system": rec.system,
        "scope": rec.scope,
        "status": rec.status,
        "started_at": rec.started_at.astimezone(tz).isoformat(),
        "finished_at": rec.finished_at.astimezone(tz).isoformat() if rec.finished_at else None,
        "differences": int(rec.summary.get("differences", 0)),
        "sections": rec.summary.get("sections", {}),
        "previous_id": rec.previous_id,
        "since": _since(rec),
        "error": rec.error,
    }


def scope_text(scope: dict[str, Any]) -> str:
    parts = []
    if scope.get("class"):
        parts.append(str(scope["class"]))
    if scope.get("period"):
        parts.append(str(scope["period"]))
    if scope.get("entities"):
        parts.append(", ".join(scope["entities"]))
    return "; ".join(parts) or "вся школа"


def listing_table(cfg: GatewayConfig, items: list[Reconciliation]) -> Table:
    table = Table(
        "№", "школа", "система", "что сверялось", "когда", "итог", "расхождений",
        "уже в пути", "с прошлой: новых / устранено", title="Сверки",
    )  # fmt: skip
    for r in items:
        tz, _ = school_look(cfg, r.school_id)
        since = _since(r)
        status = "[green]готова[/]" if r.status == "done" else "[red]не выполнена[/]"
        table.add_row(
            str(r.id),
            r.school_id,
            text.system_name(r.system),
            escape(scope_text(r.scope)),
            text.moment(r.started_at, tz),
            status,
            f"{int(r.summary.get('differences', 0)):,}" if r.status == "done" else "—",
            f"{int(r.summary.get('sections', {}).get('pending', 0)):,}",
            f"{since['new']:,} / {since['gone']:,} (с № {since['previous_id']})"
            if since
            else ("первая" if r.status == "done" else escape(r.error or "")),
        )
    return table


def _row_line(r: Row) -> str:
    bits = [text.ENTITY_ONE.get(r.entity, r.entity)]
    bits += [b for b in (r.class_name, r.subject_name, r.pupil, text.day(r.day)) if b]
    line = ", ".join(bits)
    if r.kind == "only_store":
        return f"{line}: есть только в шлюзе ({r.store})"
    if r.kind == "only_system":
        return f"{line}: есть только в системе ({r.system})"
    return f"{line}: {r.what} — в шлюзе {r.store or '—'}, в системе {r.system or '—'}"


def print_since(view: ReconciliationView) -> None:
    """What changed since the previous reconciliation of the same scope: the new differences
    and those gone, the first of each."""
    since = view.summary.get("since")
    if not since:
        return
    new = list(view.new_rows(SHOWN + 1))
    if new:
        console.print(f"[bold]Новые с прошлой сверки (№ {since['previous_id']}):[/]")
        for r in new[:SHOWN]:
            console.print(
                f"  + [{text.SECTION[r.section]}] {escape(_row_line(r))}", highlight=False
            )
        if since["new"] > SHOWN:
            console.print(f"  … и ещё {since['new'] - SHOWN:,}")
    gone = view.gone()
    if gone:
        console.print(f"[bold]Устранены с прошлой сверки (№ {since['previous_id']}):[/]")
        for r in gone[:SHOWN]:
            console.print(f"  − {escape(_row_line(r))}", highlight=False)
        if since["gone"] > SHOWN:
            console.print(f"  … и ещё {since['gone'] - SHOWN:,}")
