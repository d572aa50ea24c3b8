"""Reconciliation end to end: the ES2 simulator over loopback HTTP, a store synced from it, then
differences of every kind seeded — each found once, in its section, in all four formats; a school
that agrees says so in one line; nothing is applied or linked; the next reconciliation says what
changed since."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from core.entities import Entity
from reports.reconcile import Request, reconcile
from reports.reconcile.output import FORMATS, write_reconciliation
from reports.text import zone
from store.queries import JournalQueries
from sync import jobs
from sync.pull import PullOptions
from tests.reports.readback import READERS, _key
from tests.reports.worlds import SeededWorld
from tests.sync.worlds import World

TZ = zone("Europe/Moscow")


def _reconcile(world: World, **request: object) -> int:
    job = jobs.open_job(world.store, world.school_config.setup("es2"))
    try:
        return reconcile(world.store, job, Request(**request)).id  # type: ignore[arg-type]
    finally:
        job.close()


def _write_all(world: World, rid: int, where: Path) -> dict[str, Path]:
    return {
        fmt: write_reconciliation(
            world.store, rid, fmt, where / f"reconciliation.{fmt}", tz=TZ, school_name="Школа"
        )
        for fmt in FORMATS
    }


def test_every_seeded_difference_shows_once_in_its_section_in_every_format(
    seeded: SeededWorld, tmp_path: Path
) -> None:
    rid = _reconcile(seeded.world)
    files = _write_all(seeded.world, rid, tmp_path)
    expected = {(s.section, _key(s.record_id, s.external_id)) for s in seeded.seeded}
    assert len(expected) == 7
    for fmt, path in files.items():
        found = READERS[fmt](path)
        assert dict(found) == dict.fromkeys(expected, 1), fmt


def test_differences_carry_both_values_and_the_pending_one_its_outbox_item(
    seeded: SeededWorld,
) -> None:
    rid = _reconcile(seeded.world)
    with seeded.store.read() as tx:
        items = {
            (i.record_id or i.external_id): i for i in tx.queries.iter_reconciliation_items(rid)
        }
        outbox = tx.outbox.find(status="pending")
    for s in seeded.seeded:
        item = items[s.record_id or s.external_id]
        assert (item.section, Entity(item.entity)) == (s.section, s.entity), s.name
        if s.fields:
            assert [f["field"] for f in item.fields] == list(s.fields), s.name
            assert all(f["store"] != f["system"] for f in item.fields)
    pending = items[next(s.record_id for s in seeded.seeded if s.section == "pending")]
    assert pending.kind == "different"
    assert pending.pending == [{"kind": "outbox", "ref": outbox[0].id, "detail": "upsert pending"}]


def test_a_school_that_agrees_says_so_in_one_line(
    clean: tuple[World, object], tmp_path: Path
) -> None:
    world, _ = clean
    rid = _reconcile(world)
    files = _write_all(world, rid, tmp_path)
    line = "Расхождений нет: все"
    assert line in files["html"].read_text("utf-8")
    assert files["csv"].read_text("utf-8-sig").splitlines()[1].startswith(line)
    wb = load_workbook(files["xlsx"])
    assert wb.sheetnames[0] == "Итог"
    assert str(wb["Итог"]["A2"].value).startswith(line)

    data = json.loads(files["json"].read_text("utf-8"))
    assert data["verdict"].startswith(line)
    assert all(rows == [] for rows in data["sections"].values())
    for fmt in ("json", "html", "xlsx", "csv"):
        assert not READERS[fmt](files[fmt])


def test_a_reconciliation_applies_nothing_and_links_nothing(seeded: SeededWorld) -> None:
    def state() -> dict[str, object]:
        with seeded.store.read() as tx:
            sid = seeded.school_id
            return {
                "records": {
                    e: sorted((r.id, r.content_hash) for r in tx.records.iter(e, sid))
                    for e in (Entity.PUPILS, Entity.MARKS, Entity.ATTENDANCE, Entity.FINAL_MARKS)
                },
                "links": {
                    e: tx.identity.links_of(sid, "es2", e) for e in (Entity.PUPILS, Entity.MARKS)
                },
                "changes": len(tx.changes.read(0, limit=10**6)),
                "outbox": [(o.id, o.status) for o in tx.outbox.find()],
                "conflicts": len(tx.conflicts.find(status=None)),
                "reviews": len(tx.reviews.find(status=None)),
                "runs": len(tx.runs.find(limit=100)),
            }

    before = state()
    _reconcile(seeded.world)
    assert state() == before


def test_the_next_reconciliation_says_what_changed_since(seeded: SeededWorld) -> None:
    first = _reconcile(seeded.world)
    # a pull takes the system's side of what only the system changed
    job = seeded.job()
    try:
        jobs.pull(seeded.store, seeded.world.config.sync, job, PullOptions())
    finally:
        job.close()
    second = _reconcile(seeded.world)
    with seeded.store.read() as tx:
        rec = tx.queries.reconciliation(second)
        assert rec is not None and rec.previous_id == first
        gone = {i.record_id or i.external_id for i in tx.queries.gone_since(second, first).items}
        still = {i.record_id or i.external_id for i in tx.queries.iter_reconciliation_items(second)}
        new = [i for i in tx.queries.iter_reconciliation_items(second) if i.new]
    since = rec.summary["since"]
    assert since == {"previous_id": first, "new": len(new), "gone": len(gone)}
    changed = {s.record_id or s.external_id for s in seeded.seeded if s.section != "pending"}
    assert changed <= gone  # the pull brought them: gone since
    pending = next(s.record_id for s in seeded.seeded if s.section == "pending")
    assert pending in still and pending not in gone


def test_a_class_and_a_period_narrow_what_is_compared(seeded: SeededWorld) -> None:
    everything = _reconcile(seeded.world)
    narrow = _reconcile(seeded.world, class_name="5а", period="I четверть")
    with seeded.store.read() as tx:
        roster = tx.queries.roster(seeded.school_id)
        q1 = {p.id: p for p in roster.periods.values() if p.name == "I четверть"}
        five_a = {c.id for c in roster.classes.values() if c.name == "5А"}
        all_items = list(tx.queries.iter_reconciliation_items(everything))
        items = list(tx.queries.iter_reconciliation_items(narrow))
    (period,) = q1.values()

    def inside(i: object) -> bool:
        if getattr(i, "class_id", None) not in five_a:
            return False
        day = getattr(i, "day", None)
        return day is None or period.start <= day <= period.end

    expected = {(i.record_id, i.external_id) for i in all_items if inside(i)}
    assert expected and len(expected) < len(all_items)  # some are outside 5А
    assert {(i.record_id, i.external_id) for i in items} == expected


def test_an_unknown_class_is_a_one_line_error(clean: tuple[World, object]) -> None:
    from reports.errors import ReportError

    world, _ = clean
    with pytest.raises(ReportError, match="no class '9Я'"):
        _reconcile(world, class_name="9Я")


def test_only_the_rows_of_records_that_differ_are_read_from_the_store(
    seeded: SeededWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store is merged as ids and content hashes: a record whose hash is the system's is
    matched without its row being read; rows are read for the records compared field by field
    (a different hash) and for those only in the store — and they are still found."""
    asked: dict[Entity, list[str]] = {}
    real = JournalQueries.rows_by_id

    def spy(self: JournalQueries, entity: Entity, school_id: str, ids: Any) -> Any:
        asked.setdefault(entity, []).extend(ids)
        return real(self, entity, school_id, ids)

    monkeypatch.setattr(JournalQueries, "rows_by_id", spy)
    rid = _reconcile(seeded.world)
    with seeded.store.read() as tx:
        rec = tx.queries.reconciliation(rid)
        assert rec is not None
        found = {i.record_id for i in tx.queries.iter_reconciliation_items(rid)}
    counts = rec.summary["entities"]
    # periods carry a field only the gateway keeps (closed): compared field by field, always
    assert sorted(asked.pop(Entity.PERIODS)) == sorted(seeded.world.ext_map("es2", Entity.PERIODS))
    read = [gid for ids in asked.values() for gid in ids]
    differing = {
        s.record_id for s in seeded.seeded if s.section in ("different", "only_store", "pending")
    }
    spelled = sum(c.get("normalised", 0) for e, c in counts.items() if e != "periods")
    assert differing <= set(read) and differing <= found
    assert len(read) == len(set(read)) == len(differing) + spelled
    matched = sum(c.get("matched", 0) for e, c in counts.items() if e != "periods")
    assert matched > 20 * len(read)  # nearly every record matched without its row


def test_a_record_deleted_while_the_store_is_read_is_only_in_the_system(
    seeded: SeededWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store is read in two statements (hashes, then the rows that differ); a pull may
    delete a record in between (PostgreSQL reads each statement afresh). The reconciliation
    finishes and names it as the system's alone."""
    changed = next(s for s in seeded.seeded if s.name == "changed value")
    real = JournalQueries.rows_by_id

    def gone(self: JournalQueries, entity: Entity, school_id: str, ids: Any) -> Any:
        rows = real(self, entity, school_id, ids)
        rows.pop(changed.record_id, None)
        return rows

    monkeypatch.setattr(JournalQueries, "rows_by_id", gone)
    rid = _reconcile(seeded.world)
    with seeded.store.read() as tx:
        rec = tx.queries.reconciliation(rid)
        items = [
            i for i in tx.queries.iter_reconciliation_items(rid) if i.record_id == changed.record_id
        ]
    assert rec is not None and rec.status == "done"
    assert [(i.kind, i.external_id) for i in items] == [("only_system", changed.external_id)]
