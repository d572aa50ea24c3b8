"""``schoolgate outbox``: the pushes that wait, failed or were rejected, with counts per status;
``schoolgate outbox retry ID…|--failed`` sends failed ones now instead of after their backoff."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from schoolgate import runner
from schoolgate.cli._common import (
    ConfigOpt,
    LimitOpt,
    SchoolOpt,
    SystemOpt,
    config_or_default,
    console,
    more_line,
    open_store,
    reported_errors,
    require_config,
)
from schoolgate.cli.sync_cmd import print_reports
from store import OutboxFilter, Paging
from sync.runs import RunReport

#: what ``outbox`` lists by default: what still needs the system, and what it refused
ATTENTION = ("pending", "sending", "sent", "failed", "rejected")
MEANING = {
    "pending": "waiting to be sent",
    "sending": "being sent",
    "sent": "awaiting the system's receipt",
    "failed": "outcome unknown: sent again with the same key (`outbox retry`)",
    "rejected": "refused by the system (see `conflicts`)",
    "accepted": "taken by the system",
    "duplicate": "the system had it already",
}


def register(app: typer.Typer) -> None:
    outbox = typer.Typer(
        help="Pushes waiting, failed or rejected, with counts per status; `retry` sends now.",
        invoke_without_command=True,
    )
    app.add_typer(outbox, name="outbox")

    @outbox.callback()
    def outbox_list(
        ctx: typer.Context,
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        system: SystemOpt = None,
        status: Annotated[
            str | None,
            typer.Option(
                help="one status (pending, sent, failed, rejected, accepted, duplicate) or all; "
                "without it: what waits, failed or was rejected"
            ),
        ] = None,
        limit: LimitOpt = 50,
    ) -> None:
        """Pushes that wait, failed or were rejected (with reasons), and counts per status."""
        if ctx.invoked_subcommand is not None:
            return
        with reported_errors():
            store = open_store(config_or_default(config))
            if status is None:
                wanted: tuple[str, ...] = ATTENTION
            else:
                wanted = () if status == "all" else (status,)
            with store, store.read() as tx:
                page = tx.queries.outbox(
                    OutboxFilter(school_id=school, system=system, statuses=wanted), Paging(limit)
                )
                totals = {
                    k[0]: n
                    for k, n in tx.queries.outbox_totals(school, system, by=("status",)).items()
                }
            if page.items:
                table = Table(
                    "id", "school", "system", "entity", "record", "op", "status", "tries",
                    "next try", "error",
                )  # fmt: skip
                for o in page.items:
                    table.add_row(
                        str(o.id),
                        o.school_id,
                        o.system,
                        o.entity,
                        o.record_id,
                        o.op,
                        o.status,
                        str(o.attempts),
                        f"{o.next_attempt_at:%Y-%m-%d %H:%M}" if o.next_attempt_at else "",
                        escape(o.error or ""),
                    )
                console.print(table)
                more = more_line(len(page.items), page.total, "(--limit N shows more)")
                if more:
                    console.print(more, highlight=False)
            else:
                console.print("nothing waits, failed or was rejected" if status is None else
                              "nothing listed")  # fmt: skip
            counts = Table("status", "pushes", "meaning", title="outbox by status")
            for name in (*ATTENTION, "accepted", "duplicate"):
                if totals.get(name):
                    counts.add_row(name, f"{totals[name]:,}", MEANING.get(name, ""))
            for name in sorted(set(totals) - set(MEANING)):
                counts.add_row(name, f"{totals[name]:,}", "")
            if totals:
                console.print(counts)

    @outbox.command("retry")
    def outbox_retry(
        item_ids: Annotated[
            list[int] | None, typer.Argument(help="outbox item ids (failed or rejected)")
        ] = None,
        failed: Annotated[
            bool, typer.Option("--failed", help="every failed item (of --school/--system)")
        ] = False,
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        system: SystemOpt = None,
        push: Annotated[
            bool,
            typer.Option("--push/--no-push", help="send them now (default) or at the next push"),
        ] = True,
    ) -> None:
        """Send failed pushes now instead of after their backoff (with the same keys: the
        system answers duplicate for what it already has). An id may name a rejected push too,
        once what it was refused for is corrected."""
        with reported_errors():
            if not item_ids and not failed:
                raise typer.BadParameter("name outbox item ids, or --failed for every failed one")
            if item_ids and failed:
                raise typer.BadParameter("either item ids or --failed, not both")
            cfg = require_config(config) if push else config_or_default(config)
            store = open_store(cfg)
            with store:
                with store.begin() as tx:
                    due = tx.outbox.retry(item_ids or (), school_id=school, system=system)
                if not due:
                    console.print("no such failed push" if failed else "no such failed or "
                                  "rejected push")  # fmt: skip
                    raise typer.Exit(1)
                for (school_id, system_key), n in sorted(due.items()):
                    console.print(f"{n:,} push(es) to {system_key} of {school_id} due now")
                if not push:
                    return
                reports: list[RunReport] = []
                configured = {(sc.id, key) for sc in cfg.schools for key in sc.systems}
                for school_id, system_key in sorted(due):
                    if (school_id, system_key) not in configured:
                        console.print(
                            f"{school_id} {system_key} is not in this configuration: "
                            "the next push there sends them"
                        )
                        continue
                    reports.append(runner.push(store, cfg.school(school_id).setup(system_key)))
            print_reports(reports)
            if any(r.status == "failed" for r in reports):
                raise typer.Exit(1)
