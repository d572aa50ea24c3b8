"""``schoolgate sync``, ``runs``, ``conflicts``, ``holds``, ``identities``, ``outbox``."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.entities import Entity
from schoolgate import runner
from schoolgate.cli._common import config_or_default, console, reported_errors
from store import ConflictFilter, OutboxFilter, Paging, QueueFilter, RunFilter, Store
from sync import jobs, resolutions
from sync.pull import PullOptions
from sync.runs import RunReport

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="configuration TOML")]
SchoolOpt = Annotated[str | None, typer.Option("--school", help="one school id")]
SystemOpt = Annotated[str | None, typer.Option("--system", help="one system (es2, asiou, o7)")]


def _store(config_path: Path | None) -> tuple[Store, object]:
    config = config_or_default(config_path)
    store = runner.open_store(config)
    return store, config


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "operator"


def print_reports(reports: list[RunReport]) -> None:
    table = Table(
        "run",
        "school",
        "system",
        "dir",
        "status",
        "created",
        "updated",
        "deleted",
        "unchanged",
        "conflicts",
        "rejected",
        "seconds",
        "note",
        title="sync runs",
    )
    for r in reports:
        c = r.counts
        table.add_row(
            str(r.run_id or "dry"),
            r.school_id,
            r.system,
            r.direction,
            {
                "success": "[green]success[/]",
                "partial": "[yellow]partial[/]",
                "held": "[magenta]held[/]",
            }.get(r.status, f"[red]{r.status}[/]"),
            *(
                str(c.total(k))
                for k in ("created", "updated", "deleted", "unchanged", "conflicts", "rejected")
            ),
            f"{r.duration:.1f}",
            (r.error or "")[:80],
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command()
    def sync(
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        system: SystemOpt = None,
        entity: Annotated[
            list[str] | None, typer.Option("--entity", help="only these entities")
        ] = None,
        full: Annotated[
            bool, typer.Option("--full", help="ignore saved state: read everything")
        ] = False,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="show what would change, write nothing")
        ] = False,
        direction: Annotated[str, typer.Option(help="pull, push or both")] = "both",
    ) -> None:
        """Pull from and push to the configured systems."""
        with reported_errors():
            cfg = config_or_default(config)
            store = runner.open_store(cfg)
            entities = frozenset(Entity(e) for e in entity) if entity else None
            options = PullOptions(full=full, dry_run=dry_run, entities=entities)
            reports: list[RunReport] = []
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed} records"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as bar:
                for setup in runner.checked_setups(cfg, school, system):
                    task = bar.add_task(f"{setup.school_id} ← {setup.system}", total=None)
                    job = jobs.open_job(store, setup)
                    try:
                        label = f"{setup.school_id} {setup.system}"

                        def tick(
                            ent: Entity, n: int, task: TaskID = task, label: str = label
                        ) -> None:
                            bar.update(task, advance=n, description=f"{label}: {ent}")

                        if direction in ("pull", "both"):
                            reports.append(jobs.pull(store, cfg.sync, job, options, tick))
                        if direction in ("push", "both") and not dry_run:
                            reports.append(jobs.push(store, job, tick))
                    finally:
                        job.close()
            print_reports(reports)
            if any(r.status == "failed" for r in reports):
                raise typer.Exit(1)

    @app.command()
    def runs(
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        limit: Annotated[int, typer.Option(help="how many")] = 20,
    ) -> None:
        """The latest sync runs with counts per entity and outcome."""
        with reported_errors():
            store, _ = _store(config)
            with store.read() as tx:
                rows = tx.queries.runs(RunFilter(school_id=school), Paging(limit)).items
            table = Table(
                "run", "school", "system", "dir", "status", "started", "seconds", "counts", "error"
            )
            for r in rows:
                secs = (r.finished_at - r.started_at).total_seconds() if r.finished_at else None
                table.add_row(
                    str(r.id),
                    r.school_id,
                    r.system,
                    r.direction,
                    r.status,
                    r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                    f"{secs:.1f}" if secs is not None else "…",
                    json.dumps(r.counts, ensure_ascii=False)[:100],
                    (r.error or "")[:60],
                )
            console.print(table)

    conflicts = typer.Typer(help="The conflict queue: held changes and recorded findings.")
    app.add_typer(conflicts, name="conflicts")

    @conflicts.command("list")
    def conflicts_list(
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        status: Annotated[
            str, typer.Option(help="open, noted, rejected, resolved or all")
        ] = "open",
        limit: int = 100,
    ) -> None:
        """Conflicts and findings, newest last."""
        with reported_errors():
            store, _ = _store(config)
            wanted = () if status == "all" else (status,)
            with store.read() as tx:
                rows = tx.queries.conflicts(
                    ConflictFilter(school_id=school, statuses=wanted), Paging(limit)
                ).items
            table = Table(
                "id", "school", "system", "entity", "record", "kind", "field", "status", "detail"
            )
            for c in rows:
                table.add_row(
                    str(c.id),
                    c.school_id,
                    c.system,
                    c.entity,
                    c.record_id[:12],
                    c.kind,
                    c.field or "",
                    c.status,
                    (getattr(c, "detail", None) or "")[:70],
                )
            console.print(table)

    @conflicts.command("show")
    def conflicts_show(conflict_id: int, config: ConfigOpt = None) -> None:
        """One conflict with its base, incoming and current versions side by side."""
        with reported_errors():
            store, _ = _store(config)
            with store.read() as tx:
                c = tx.queries.conflict(conflict_id)
            if c is None:
                console.print(f"no conflict {conflict_id}")
                raise typer.Exit(1)
            console.print(
                f"conflict {c.id}: {c.kind} on {c.entity} {c.record_id} from {c.system} "
                f"[{c.status}] {getattr(c, 'detail', '') or ''}"
            )
            table = Table("field", "base (agreed)", "incoming (system)", "current (store)")
            fields = sorted(set(c.base or {}) | set(c.incoming or {}) | set(c.current or {}))
            for f in fields:
                vals = [escape(str((v or {}).get(f, ""))) for v in (c.base, c.incoming, c.current)]
                style = "bold" if len(set(vals)) > 1 else ""
                table.add_row(f, *vals, style=style)
            console.print(table)

    @conflicts.command("resolve")
    def conflicts_resolve(
        conflict_id: int,
        take: Annotated[str, typer.Option("--take", help="local or remote")],
        config: ConfigOpt = None,
    ) -> None:
        """Resolve a held conflict: keep the store's version (local) or the system's (remote)."""
        with reported_errors():
            if take not in ("local", "remote"):
                raise typer.BadParameter("--take must be local or remote")
            store, _ = _store(config)
            c = resolutions.resolve_conflict(store, conflict_id, take, by=_user())  # type: ignore[arg-type]
            console.print(f"conflict {c.id} resolved: {c.resolution}")

    holds = typer.Typer(help="Pulls held for a person: mass deactivation, empty roster.")
    app.add_typer(holds, name="holds")

    @holds.command("list")
    def holds_list(
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        status: Annotated[
            str, typer.Option(help="waiting, approved, discarded or all")
        ] = "waiting",
    ) -> None:
        with reported_errors():
            store, _ = _store(config)
            wanted = () if status == "all" else (status,)
            with store.read() as tx:
                rows = tx.queries.holds(QueueFilter(school, wanted), Paging(1000)).items
            table = Table("id", "school", "system", "run", "reason", "status", "detail")
            for h in rows:
                table.add_row(
                    str(h.id),
                    h.school_id,
                    h.system,
                    str(h.run_id or ""),
                    h.reason,
                    h.status,
                    str(h.summary.get("detail", "")),
                )
            console.print(table)

    @holds.command("approve")
    def holds_approve(hold_id: int, config: ConfigOpt = None) -> None:
        """Approve a hold and run the held pull with the hold lifted."""
        with reported_errors():
            cfg = config_or_default(config)
            store = runner.open_store(cfg)
            print_reports([runner.approve_hold(store, cfg, hold_id, by=_user())])

    @holds.command("discard")
    def holds_discard(hold_id: int, config: ConfigOpt = None) -> None:
        """Refuse a held pull: nothing of it is applied."""
        with reported_errors():
            store, _ = _store(config)
            resolutions.discard_hold(store, hold_id, by=_user())
            console.print(f"hold {hold_id} discarded")

    ident = typer.Typer(help="The identity review queue: people the gateway would not match alone.")
    app.add_typer(ident, name="identities")

    @ident.command("list")
    def identities_list(
        config: ConfigOpt = None, school: SchoolOpt = None, status: str = "open"
    ) -> None:
        with reported_errors():
            store, _ = _store(config)
            wanted = () if status == "all" else (status,)
            with store.read() as tx:
                rows = tx.queries.reviews(QueueFilter(school, wanted), Paging(1000)).items
            table = Table(
                "id", "school", "system", "entity", "external id", "candidates", "reason", "status"
            )
            for r in rows:
                table.add_row(
                    str(r.id),
                    r.school_id,
                    r.system,
                    r.entity,
                    r.external_id,
                    ", ".join(c[:12] for c in r.candidate_ids),
                    r.reason,
                    r.status,
                )
            console.print(table)

    @ident.command("link")
    def identities_link(
        item_id: int,
        to: Annotated[str, typer.Option("--to", help="gateway id of the person")],
        config: ConfigOpt = None,
    ) -> None:
        """Link the external person to an existing gateway person."""
        with reported_errors():
            store, _ = _store(config)
            resolutions.decide_identity(store, item_id, link_to=to, by=_user())
            console.print(f"review item {item_id} linked to {to}")

    @ident.command("reject")
    def identities_reject(item_id: int, config: ConfigOpt = None) -> None:
        """Nobody matches: the next pull creates a new person."""
        with reported_errors():
            store, _ = _store(config)
            resolutions.decide_identity(store, item_id, link_to=None, by=_user())
            console.print(f"review item {item_id} rejected")

    @app.command()
    def outbox(
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        system: SystemOpt = None,
        status: Annotated[str, typer.Option(help="pending, sent, rejected, … or all")] = "rejected",
        limit: int = 100,
    ) -> None:
        """Pushes waiting or done; rejected ones with their reasons."""
        with reported_errors():
            store, _ = _store(config)
            wanted = () if status == "all" else (status,)
            with store.read() as tx:
                rows = tx.queries.outbox(
                    OutboxFilter(school_id=school, system=system, statuses=wanted), Paging(limit)
                ).items
            table = Table(
                "id", "school", "system", "entity", "record", "op", "status", "tries", "error"
            )
            for o in rows:
                table.add_row(
                    str(o.id),
                    o.school_id,
                    o.system,
                    o.entity,
                    o.record_id[:12],
                    o.op,
                    o.status,
                    str(o.attempts),
                    (o.error or "")[:70],
                )
            console.print(table)
