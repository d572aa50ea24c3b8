"""What waits for a person: ``conflicts``, ``holds`` and ``identities``.

By default each listing shows what needs attention — the conflict queue's open conflicts,
waiting records and the latest refusals — with totals, so that «and 14,721 more» is never a
surprise; ``--status`` lists one status (or ``all``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from mapping.model import PERSONAL_FIELDS
from schoolgate import runner
from schoolgate.cli._common import (
    ConfigOpt,
    LimitOpt,
    SchoolOpt,
    config_or_default,
    console,
    more_line,
    open_store,
    reported_errors,
    require_config,
    user,
)
from schoolgate.cli.sync_cmd import print_reports
from store import Conflict, ConflictFilter, Page, Paging, QueueFilter
from store.types import utcnow
from sync import resolutions

#: what ``conflicts list`` shows by default, in this order
ATTENTION = (
    ("open", "held for a person: `conflicts resolve ID --take local|remote`"),
    ("waiting", "waiting for a record they refer to (applied when it arrives)"),
    ("rejected", "refused: correct at the source"),
)


def _conflict_table(rows: Sequence[Conflict], *, title: str | None = None) -> Table:
    table = Table(
        "id", "school", "system", "entity", "record", "kind", "field", "status", "detail",
        title=title,
    )  # fmt: skip
    for c in rows:
        table.add_row(
            str(c.id),
            c.school_id,
            c.system,
            c.entity,
            c.record_id,
            c.kind,
            c.field or "",
            c.status,
            escape((c.detail or "")[:120]),
        )
    return table


def _print_page(page: Page[Conflict], *, title: str, hint: str = "") -> None:
    if not page.items:
        return
    console.print(_conflict_table(page.items, title=title))
    more = more_line(len(page.items), page.total, hint)
    if more:
        console.print(more, highlight=False)


def _totals_line(totals: dict[str, int]) -> str:
    order = ["open", "waiting", "rejected", "noted", "resolved", "arrived"]
    names = [s for s in order if s in totals] + sorted(set(totals) - set(order))
    return "totals: " + " · ".join(f"{s} {totals[s]:,}" for s in names)


def _show(c: Conflict) -> None:
    console.print(
        f"conflict {c.id}: {c.kind} on {c.entity} {c.record_id} from {c.system} "
        f"[{c.status}], {c.created_at:%Y-%m-%d %H:%M}",
        highlight=False,
    )
    if c.field:
        console.print(f"field: {c.field}", highlight=False)
    if c.detail:
        console.print(f"rule: {escape(c.detail)}", highlight=False)
    if c.field:
        if c.field in PERSONAL_FIELDS:
            value = "not kept (personal data: see the source system)"
        elif c.incoming and c.field in c.incoming:
            value = escape(repr(c.incoming[c.field]))
        else:
            value = ""
        if value:
            label = "refused value" if c.status == "rejected" else "value received"
            console.print(f"{label}: {value}", highlight=False)
    if c.resolution:
        console.print(
            f"resolution: {c.resolution} by {c.resolved_by or '?'}"
            + (f" at {c.resolved_at:%Y-%m-%d %H:%M}" if c.resolved_at else ""),
            highlight=False,
        )
    versions = (c.base, c.incoming, c.current)
    fields = sorted(set().union(*(v or {} for v in versions)))
    if fields == ([c.field] if c.field else []) and not (c.base or c.current):
        return  # the refused value is all there is: said above
    if not fields:
        return
    table = Table("field", "base (agreed)", "incoming (system)", "current (store)")
    for f in fields:
        vals = [escape(str((v or {}).get(f, ""))) for v in versions]
        style = "bold" if len(set(vals)) > 1 else ""
        table.add_row(f, *vals, style=style)
    console.print(table)


def register(app: typer.Typer) -> None:
    conflicts = typer.Typer(help="The conflict queue: held changes, waiting records, findings.")
    app.add_typer(conflicts, name="conflicts")

    @conflicts.command("list")
    def conflicts_list(
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        status: Annotated[
            str | None,
            typer.Option(
                help="one status (open, waiting, rejected, noted, resolved, arrived) or all; "
                "without it: open, waiting and the latest refusals"
            ),
        ] = None,
        days: Annotated[int, typer.Option(help="refusals of the last DAYS days")] = 7,
        limit: LimitOpt = 50,
    ) -> None:
        """What needs attention: open conflicts, waiting records and recent refusals."""
        with reported_errors():
            store = open_store(config_or_default(config))
            since = utcnow() - dt.timedelta(days=days)
            with store, store.read() as tx:
                totals = {
                    k[0]: n for k, n in tx.queries.conflict_totals(school, by=("status",)).items()
                }
                if status is not None:
                    wanted = () if status == "all" else (status,)
                    page = tx.queries.conflicts(
                        ConflictFilter(school_id=school, statuses=wanted), Paging(limit)
                    )
                    pages = [(f"conflict queue: {status}", "", page)]
                else:
                    pages = []
                    for name, hint in ATTENTION:
                        recent = name == "rejected"
                        where = ConflictFilter(
                            school_id=school,
                            statuses=(name,),
                            since=since if recent else None,
                            newest_first=recent,
                        )
                        title = f"{name}: {hint}" + (f" (last {days} days)" if recent else "")
                        pages.append((title, "", tx.queries.conflicts(where, Paging(limit))))
            for title, hint, page in pages:
                _print_page(page, title=title, hint=hint)
            if not any(page.items for _, _, page in pages):
                console.print("nothing needs attention" if status is None else "nothing listed")
            if totals:
                console.print(_totals_line(totals), highlight=False)

    @conflicts.command("show")
    def conflicts_show(conflict_id: int, config: ConfigOpt = None) -> None:
        """One conflict or finding: the field, the rule, the value refused; the base, incoming
        and current versions side by side when there are any."""
        with reported_errors():
            store = open_store(config_or_default(config))
            with store, store.read() as tx:
                c = tx.queries.conflict(conflict_id)
            if c is None:
                console.print(f"no conflict {conflict_id}")
                raise typer.Exit(1)
            _show(c)

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
            side: Literal["local", "remote"] = "local" if take == "local" else "remote"
            store = open_store(config_or_default(config))
            with store:
                c = resolutions.resolve_conflict(store, conflict_id, side, by=user())
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
        limit: LimitOpt = 100,
    ) -> None:
        with reported_errors():
            store = open_store(config_or_default(config))
            wanted = () if status == "all" else (status,)
            with store, store.read() as tx:
                page = tx.queries.holds(QueueFilter(school, wanted), Paging(limit))
            table = Table("id", "school", "system", "run", "reason", "status", "detail")
            for h in page.items:
                table.add_row(
                    str(h.id),
                    h.school_id,
                    h.system,
                    str(h.run_id or ""),
                    h.reason,
                    h.status,
                    escape(str(h.summary.get("detail", ""))),
                )
            console.print(table)
            more = more_line(len(page.items), page.total)
            if more:
                console.print(more, highlight=False)

    @holds.command("approve")
    def holds_approve(hold_id: int, config: ConfigOpt = None) -> None:
        """Approve a hold and run the held pull with the hold lifted."""
        with reported_errors():
            cfg = require_config(config)
            store = open_store(cfg)
            with store:
                print_reports([runner.approve_hold(store, cfg, hold_id, by=user())])

    @holds.command("discard")
    def holds_discard(hold_id: int, config: ConfigOpt = None) -> None:
        """Refuse a held pull: nothing of it is applied."""
        with reported_errors():
            store = open_store(config_or_default(config))
            with store:
                resolutions.discard_hold(store, hold_id, by=user())
            console.print(f"hold {hold_id} discarded")

    ident = typer.Typer(help="The identity review queue: people the gateway would not match alone.")
    app.add_typer(ident, name="identities")

    @ident.command("list")
    def identities_list(
        config: ConfigOpt = None,
        school: SchoolOpt = None,
        status: str = "open",
        limit: LimitOpt = 100,
    ) -> None:
        with reported_errors():
            store = open_store(config_or_default(config))
            wanted = () if status == "all" else (status,)
            with store, store.read() as tx:
                page = tx.queries.reviews(QueueFilter(school, wanted), Paging(limit))
            table = Table(
                "id", "school", "system", "entity", "external id", "candidates", "reason", "status"
            )
            for r in page.items:
                table.add_row(
                    str(r.id),
                    r.school_id,
                    r.system,
                    r.entity,
                    r.external_id,
                    ", ".join(r.candidate_ids),
                    escape(r.reason),
                    r.status,
                )
            console.print(table)
            more = more_line(len(page.items), page.total)
            if more:
                console.print(more, highlight=False)

    @ident.command("link")
    def identities_link(
        item_id: int,
        to: Annotated[str, typer.Option("--to", help="gateway id of the person")],
        config: ConfigOpt = None,
    ) -> None:
        """Link the external person to an existing gateway person."""
        with reported_errors():
            store = open_store(config_or_default(config))
            with store:
                resolutions.decide_identity(store, item_id, link_to=to, by=user())
            console.print(f"review item {item_id} linked to {to}")

    @ident.command("reject")
    def identities_reject(item_id: int, config: ConfigOpt = None) -> None:
        """Nobody matches: the next pull creates a new person."""
        with reported_errors():
            store = open_store(config_or_default(config))
            with store:
                resolutions.decide_identity(store, item_id, link_to=None, by=user())
            console.print(f"review item {item_id} rejected")
