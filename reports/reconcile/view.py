"""A stored reconciliation as people read it: names instead of ids (read from the store when it
is rendered), Russian labels, dates DD.MM.YYYY, times in the school's time zone. The same view
feeds every format: the HTML template, the XLSX and CSV tables, the JSON payload."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from core.entities import Entity
from mapping.model import PERSONAL_FIELDS, SchoolClass
from reports import text
from reports.names import Names
from reports.render.document import Cell, Column, Document, Table
from store import Paging, Reconciliation, ReconciliationItem, Tx

#: sections in the order a report shows them
SECTIONS = ("different", "only_store", "only_system", "pending", "unreadable")
OUTCOME_COLUMNS = (
    ("matched", "Совпали"),
    ("different", "Расходятся"),
    ("only_store", "Только в шлюзе"),
    ("only_system", "Только в системе"),
    ("pending", "Уже в пути"),
    ("unreadable", "Не прочитаны"),
)
GONE_SHOWN = 1000


@dataclass(frozen=True, slots=True)
class Row:
    section: str
    kind: str
    entity: str
    class_name: str
    subject_name: str
    pupil: str
    day: dt.date | None
    what: str
    store: str
    system: str
    pending: str
    new: bool
    record_id: str | None
    external_id: str | None
    severity: int

    def cells(self) -> list[Cell]:
        return [
            text.ENTITY_ONE.get(self.entity, self.entity),
            self.class_name,
            self.subject_name,
            self.pupil,
            self.day,
            self.what,
            self.store,
            self.system,
            self.pending,
            "новое" if self.new else "",
            self.external_id or "",
            self.record_id or "",
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "kind": self.kind,
            "entity": self.entity,
            "class": self.class_name,
            "subject": self.subject_name,
            "pupil": self.pupil,
            "date": self.day,
            "what": self.what,
            "store": self.store,
            "system": self.system,
            "pending": self.pending,
            "new": self.new,
            "record_id": self.record_id,
            "external_id": self.external_id,
            "severity": self.severity,
        }


ROW_COLUMNS = (
    Column("entity", "Запись", 16),
    Column("class", "Класс", 8),
    Column("subject", "Предмет", 24),
    Column("pupil", "Ученик", 30),
    Column("day", "Дата", 12, "date"),
    Column("what", "Что расходится", 22),
    Column("store", "В шлюзе", 22),
    Column("system", "В системе", 22),
    Column("pending", "Уже в пути", 30),
    Column("new", "С прошлой сверки", 12),
    Column("external_id", "Id в системе", 14),
    Column("record_id", "Id в шлюзе", 34),
)


@dataclass(frozen=True, slots=True)
class BucketRow:
    class_name: str
    subject_name: str
    counts: dict[str, int]
    worst: list[str]

    @property
    def differences(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "matched")


class ReconciliationView:
    def __init__(
        self,
        tx: Tx,
        rec: Reconciliation,
        *,
        tz: dt.tzinfo,
        school_name: str = "",
        names: Names | None = None,
    ) -> None:
        self.tx = tx
        self.rec = rec
        self.tz = tz
        self.school_name = school_name or rec.school_id
        self.summary = rec.summary
        #: a page that shows a few rows passes names read for them alone (the whole roster of a
        #: large school is read otherwise)
        self.names = names or Names(tx, rec.school_id)

    # -- the lines read first ------------------------------------------------------------------
    @property
    def system_name(self) -> str:
        return text.system_name(self.rec.system)

    @property
    def title(self) -> str:
        return (
            f"Сверка журнала шлюза с системой {self.system_name} — {self.school_name}, "
            f"{text.moment(self.rec.started_at, self.tz)}"
        )

    @property
    def sections(self) -> dict[str, int]:
        found: dict[str, int] = self.summary.get("sections", {})
        return found

    @property
    def differences(self) -> int:
        return sum(self.sections.values())

    def _sum(self, outcome: str) -> int:
        return sum(int(c.get(outcome, 0)) for c in self.summary.get("entities", {}).values())

    @property
    def verdict(self) -> str:
        matched = self._sum("matched")
        if self.rec.status != "done":
            return f"Сверка не завершена: {self.rec.error or 'ошибка'}."
        if not self.differences:
            return (
                f"Расхождений нет: все {text.count(matched, 'запись', 'записи', 'записей')} "
                f"системы {self.system_name} совпадают с журналом шлюза."
            )
        parts = ", ".join(
            f"{text.SECTION[s].split(' (')[0].lower()} — {self.sections[s]}"
            for s in SECTIONS
            if self.sections.get(s)
        )
        return (
            f"Найдено расхождений: {self.differences} ({parts}); совпали "
            f"{text.count(matched, 'запись', 'записи', 'записей')}."
        )

    @property
    def scope_line(self) -> str:
        scope = self.rec.scope
        parts = []
        if scope.get("class"):
            parts.append(f"класс {scope['class']}")
        if scope.get("period"):
            parts.append(f"период «{scope['period']}»")
        if scope.get("entities"):
            parts.append(
                "данные: " + ", ".join(text.ENTITY.get(e, e).lower() for e in scope["entities"])
            )
        compared = ", ".join(
            text.ENTITY.get(e, e).lower() for e in self.summary.get("compared", [])
        )
        what = "; ".join(parts) if parts else "вся школа, весь учебный год"
        line = f"Что сверялось: {what}. Прочитано заново из системы: {compared or '—'}."
        if self.summary.get("not_read"):
            line += (
                " Система не отдаёт: "
                + ", ".join(text.ENTITY.get(e, e).lower() for e in self.summary["not_read"])
                + "."
            )
        return line

    @property
    def since_line(self) -> str:
        since = self.summary.get("since")
        if not since:
            return "Это первая сверка с такими условиями: сравнивать не с чем."
        return (
            f"С прошлой сверки (№ {since['previous_id']}): новых расхождений — {since['new']}, "
            f"устранено — {since['gone']}."
        )

    @property
    def queue_line(self) -> str:
        q = self.summary.get("queues", {})
        if not any(q.values()):
            return "Очереди пусты: ничего не ждёт отправки или решения."
        parts = [
            f"в очереди на отправку — {q.get('outbox', 0)}",
            f"конфликтов ждут решения — {q.get('conflict', 0)}",
            f"записей ждут связанных — {q.get('waiting', 0)}",
            f"задержанных загрузок — {q.get('hold', 0)}",
            f"личностей на проверке — {q.get('review', 0)}",
        ]
        return "Ждут в очередях: " + ", ".join(parts) + "."

    def lines(self) -> list[str]:
        return [self.verdict, self.since_line, self.scope_line, self.queue_line]

    # -- the summary per class × subject ---------------------------------------------------
    def _class_order(self, cid: str | None) -> tuple[int, str]:
        c = self.names.roster.classes.get(cid or "")
        if isinstance(c, SchoolClass):
            return (c.parallel, c.name)
        return (99, self.names.class_name(cid))

    def buckets(self) -> list[BucketRow]:
        out = []
        raw = sorted(
            self.summary.get("buckets", []),
            key=lambda b: (
                self._class_order(b["class_id"]),
                self.names.subject_name(b["subject_id"]),
            ),
        )
        for b in raw:
            counts = {k: int(b.get(k, 0)) for k, _ in OUTCOME_COLUMNS}
            out.append(
                BucketRow(
                    self.names.class_name(b["class_id"]) or "вся школа",
                    self.names.subject_name(b["subject_id"])
                    or ("состав класса" if b["class_id"] else "справочники"),
                    counts,
                    [self._brief(w) for w in b.get("worst", [])],
                )
            )
        return out

    def _brief(self, w: dict[str, Any]) -> str:
        entity = text.ENTITY_ONE.get(w["entity"], w["entity"])
        fields = ", ".join(text.FIELD.get(f, f) for f in w.get("fields", []))
        bits = [f"{text.KIND_SHORT.get(w['kind'], w['kind'])}: {entity}"]
        if fields:
            bits[0] += f" ({fields})"
        if w.get("day"):
            bits.append(text.day(w["day"]))
        who = self.names.pupil(w["pupil_id"]) if w.get("pupil_id") else ""
        if who:
            bits.append(who)
        if w.get("section") == "pending":
            bits.append("уже в пути")
        return ", ".join(bits)

    # -- the detail ---------------------------------------------------------------------------
    def rows(self, section: str) -> Iterator[Row]:
        for item in self.tx.queries.iter_reconciliation_items(self.rec.id, section):
            yield self.row(item)

    def row(self, item: ReconciliationItem) -> Row:
        entity = Entity(item.entity)
        names = self.names
        if entity is Entity.PUPILS:
            pupil = (
                names.pupil(item.record_id)
                if item.record_id
                else (f"нет в шлюзе (id в системе {item.external_id})")
            )
        else:
            pupil = names.pupil(item.pupil_id) if item.pupil_id else ""
        if item.kind == "different":
            what = ", ".join(text.FIELD.get(f["field"], f["field"]) for f in item.fields)
        elif item.kind == "unreadable":
            what = "запись не прочитана: " + (
                text.FIELD.get(item.fields[0]["field"], item.fields[0]["field"])
                if item.fields and item.fields[0].get("field")
                else "вся запись"
            )
        else:
            what = text.ENTITY_ONE.get(item.entity, item.entity)
        store_vals, system_vals = [], []
        for f in item.fields:
            name = f["field"]
            if name in PERSONAL_FIELDS:
                if item.kind == "different":  # the system's value is not kept (ПДн)
                    label = text.FIELD.get(name, name)
                    store_vals.append(f"{label}: {self._current(entity, item.record_id, name)}")
                    system_vals.append(f"{label}: другое значение")
                continue
            shown = [f for f in item.fields if f["field"] not in PERSONAL_FIELDS]
            label = text.FIELD.get(name, name) if len(shown) > 1 else ""
            prefix = f"{label}: " if label else ""
            store_vals.append(prefix + names.value(name, f.get("store")))
            system_vals.append(prefix + names.value(name, f.get("system")))
        if item.kind == "only_store":  # the system has nothing: its side is one dash
            system_vals = ["—"]
        elif item.kind == "only_system":
            store_vals = ["—"]
        if item.kind == "unreadable":
            store_vals = ["—"]
            system_vals = [str(item.fields[0].get("system", "")) if item.fields else ""]
        pending = "; ".join(
            f"{text.PENDING.get(p['kind'], p['kind'])} (№ {p['ref']}: "
            f"{text.pending_detail(str(p['detail']))})"
            for p in item.pending or []
        )
        return Row(
            section=item.section,
            kind=item.kind,
            entity=item.entity,
            class_name=names.class_name(item.class_id),
            subject_name=names.subject_name(item.subject_id),
            pupil=pupil,
            day=item.day,
            what=what,
            store="; ".join(store_vals),
            system="; ".join(system_vals),
            pending=pending,
            new=item.new,
            record_id=item.record_id,
            external_id=item.external_id,
            severity=item.severity,
        )

    def new_per_section(self) -> dict[str, int]:
        """Rows per section the previous reconciliation of the scope did not have (all rows of
        a first reconciliation)."""
        if not self.summary.get("since"):
            return dict(self.sections)
        return self.tx.queries.reconciliation_new_totals(self.rec.id)

    def new_rows(self, limit: int) -> Iterator[Row]:
        """The first ``limit`` rows the previous reconciliation of the scope did not have."""
        items = self.tx.queries.iter_reconciliation_items(self.rec.id, new_only=True)
        for n, item in enumerate(items):
            if n >= limit:
                return
            yield self.row(item)

    def _current(self, entity: Entity, rid: str | None, field: str) -> str:
        if rid is None:
            return "—"
        table = self.names.roster.pupils if entity is Entity.PUPILS else self.names.roster.teachers
        rec = table.get(rid)
        value = getattr(rec, field, None) if rec is not None else None
        return text.value(field, value.isoformat() if isinstance(value, dt.date) else value)

    def gone(self) -> list[Row]:
        since = self.summary.get("since")
        if not since:
            return []
        page = self.tx.queries.gone_since(
            self.rec.id, since["previous_id"], paging=Paging(limit=GONE_SHOWN)
        )
        return [self.row(item) for item in page.items]

    # -- formats ----------------------------------------------------------------------------
    def document(self) -> Document:
        bucket_cols = [
            Column("class", "Класс", 10),
            Column("subject", "Предмет", 28),
            *(Column(k, t, 12, "int") for k, t in OUTCOME_COLUMNS),
            Column("worst", "Худшие расхождения", 70),
        ]

        def bucket_cells() -> Iterator[list[Cell]]:
            for b in self.buckets():
                yield [
                    b.class_name,
                    b.subject_name,
                    *(b.counts[k] for k, _ in OUTCOME_COLUMNS),
                    "; ".join(b.worst),
                ]

        def paint_bucket(row: Any) -> dict[int, str]:
            return {
                i + 2: ("warn" if k == "pending" else "bad")
                for i, (k, _) in enumerate(OUTCOME_COLUMNS)
                if k != "matched" and row[i + 2]
            }

        doc = Document(self.title, self.lines())
        doc.tables.append(
            Table("Сводка", f"{self.title}: сводка по классам и предметам", bucket_cols,
                  bucket_cells(), paint_bucket)
        )  # fmt: skip
        for section in SECTIONS:
            doc.tables.append(
                Table(
                    text.SECTION[section][:31],
                    f"{text.SECTION[section]} — {self.sections.get(section, 0)}",
                    ROW_COLUMNS,
                    (r.cells() for r in self.rows(section)),
                    lambda row: {9: "new"} if row[9] else {},
                )
            )
        gone = self.gone()
        if gone:
            doc.tables.append(
                Table("Устранены", "Устранены с прошлой сверки", ROW_COLUMNS,
                      [r.cells() for r in gone])
            )  # fmt: skip
        return doc

    def payload(self) -> dict[str, Any]:
        rec = self.rec
        summary = {k: v for k, v in self.summary.items() if k != "buckets"}
        return {
            "report": "reconciliation",
            "id": rec.id,
            "school": {"id": rec.school_id, "name": self.school_name},
            "system": {"key": rec.system, "name": self.system_name},
            "status": rec.status,
            "started_at": rec.started_at.astimezone(self.tz),
            "finished_at": rec.finished_at.astimezone(self.tz) if rec.finished_at else None,
            "scope": rec.scope,
            "verdict": self.verdict,
            "lines": self.lines(),
            "summary": summary,
            "classes": [
                {
                    "class": b.class_name,
                    "subject": b.subject_name,
                    **b.counts,
                    "worst": b.worst,
                }
                for b in self.buckets()
            ],
            "sections": {s: [r.to_json() for r in self.rows(s)] for s in SECTIONS},
            "gone_since_previous": [r.to_json() for r in self.gone()],
        }
