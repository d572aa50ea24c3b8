"""A journal-control report as people read it: names instead of ids, Russian labels, dates
DD.MM.YYYY and times in the school's time zone. One view feeds every format: the HTML template,
the XLSX and CSV tables (:class:`~reports.render.document.Document`) and the JSON payload."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mapping.model import SchoolClass
from reports import text
from reports.control.checks import half_up
from reports.control.engine import ControlRun
from reports.control.model import (
    INFORMATIONAL,
    SECTIONS,
    WRONG_SUBSTITUTION,
    CourseStats,
    Finding,
    TeacherStats,
)
from reports.names import Names
from reports.render import charts
from reports.render.document import Cell, Chart, Column, Document, Table
from store import Tx

SECTION_TITLE: dict[str, str] = {
    "no_marks": "Ученики без отметок",
    "one_mark": "Ученики с одной отметкой",
    "below_norm": "Накопляемость ниже нормы",
    "no_topic": "Уроки без темы",
    "no_homework": "Уроки без домашнего задания",
    "absence_no_reason": "Пропуски без указания причины",
    "late_mark": "Отметки, выставленные с опозданием",
    "changed_mark": "Исправленные и удалённые отметки",
    "period_mark": "Отметки за период, не следующие из текущих",
    "substitution": "Замены уроков",
}
#: the same, short: summary columns and sheet names
SECTION_SHORT: dict[str, str] = {
    "no_marks": "Без отметок",
    "one_mark": "Одна отметка",
    "below_norm": "Ниже нормы",
    "no_topic": "Без темы",
    "no_homework": "Без ДЗ",
    "absence_no_reason": "Пропуски без причины",
    "late_mark": "Поздние отметки",
    "changed_mark": "Исправления",
    "period_mark": "Итоговые не по текущим",
    "substitution": "Замены",
}

ROW_COLUMNS = (
    Column("class", "Класс", 8),
    Column("subject", "Предмет", 22),
    Column("teacher", "Учитель", 24),
    Column("pupil", "Ученик", 30),
    Column("day", "Дата", 12, "date"),
    Column("number", "Урок", 6, "int"),
    Column("what", "Замечание", 50),
    Column("old", "Было", 10),
    Column("new", "Стало", 10),
    Column("who", "Кто", 24),
    Column("when", "Когда", 17),
    Column("key", "Id записи", 30),
)


@dataclass(frozen=True, slots=True)
class Row:
    section: str
    class_name: str
    subject: str
    teacher: str
    pupil: str
    day: dt.date | None
    number: int | None
    what: str
    old: str
    new: str
    who: str
    when: str
    key: str
    problem: bool

    def cells(self) -> list[Cell]:
        return [
            self.class_name,
            self.subject,
            self.teacher,
            self.pupil,
            self.day,
            self.number,
            self.what,
            self.old,
            self.new,
            self.who,
            self.when,
            self.key,
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "class": self.class_name,
            "subject": self.subject,
            "teacher": self.teacher,
            "pupil": self.pupil,
            "date": self.day,
            "lesson_number": self.number,
            "what": self.what,
            "old": self.old,
            "new": self.new,
            "who": self.who,
            "when": self.when,
            "key": self.key,
            "problem": self.problem,
        }


def _paint_what(row: Sequence[Cell]) -> dict[int, str]:
    return {6: "bad"}


def _num(x: float) -> str:
    return f"{x:.2f}".replace(".", ",")


#: what a side of a change shows besides the value (a deletion's side holds the whole mark)
_SHOWN = ("work_type", "weight", "kind")


def _mark_text(values: dict[str, Any]) -> str:
    """An audit side of a mark: its value, its work type and weight when they are part of it."""
    if not values:
        return "—"
    parts = [str(values["value"])] if "value" in values else []
    parts += [f"{text.FIELD[k]}: {text.value(k, values[k])}" for k in _SHOWN if k in values]
    return "; ".join(parts) or "—"


def _lower(label: str) -> str:
    return label[:1].lower() + label[1:]


class ControlView:
    def __init__(self, tx: Tx, run: ControlRun) -> None:
        self.run = run
        self.result = run.result
        self.settings = run.settings
        self.names = Names(tx, run.school_id, run.roster)
        self._rows: dict[str, list[Row]] | None = None

    # -- the lines read first ------------------------------------------------------------------
    @property
    def title(self) -> str:
        return f"Контроль ведения электронного журнала — {self.run.school_name}"

    @property
    def subtitle(self) -> str:
        return f"{self.run.scope.label}, на {text.day(self.run.scope.as_of)}"

    def counts(self) -> dict[str, int]:
        c = Counter(f.kind for f in self.result.findings)
        return {s: c.get(s, 0) for s in SECTIONS}

    @property
    def problems(self) -> int:
        return self.result.problems

    @property
    def verdict(self) -> str:
        if not self.result.lessons:
            return "В выбранные рамки не попал ни один проведённый урок: проверять нечего."
        if not self.problems:
            return (
                "Замечаний нет: журнал заполнен, накопляемость в норме, исправлений и опозданий "
                "нет."
            )
        parts = ", ".join(
            f"{_lower(SECTION_SHORT[s])} — {n}"
            for s, n in self.counts().items()
            if n and s not in INFORMATIONAL
        )
        return f"Замечаний: {self.problems} ({parts})."

    @property
    def scope_line(self) -> str:
        r = self.result
        return (
            f"Проверено: {self.run.scope.label}; уроки по {text.day(self.run.scope.last_day)}. "
            f"Классов — {len(r.class_ids)}, уроков — {r.lessons}, текущих отметок — {r.marks}, "
            f"записей посещаемости — {r.absences}."
        )

    @property
    def teachers_line(self) -> str:
        ts = [t for t in self.result.teachers if t.lessons]
        working = sum(1 for t in ts if t.works_in_journal)
        share = working / len(ts) if ts else 0.0
        return (
            f"Учителей, ведущих журнал (записаны темы или выставлены отметки): {working} из "
            f"{len(ts)} ({share:.0%})."
        ).replace("%", "\u00a0%")

    @property
    def pupils_line(self) -> str:
        graded = [c for c in self.result.courses if c.graded and c.pupils]
        seats = sum(c.pupils for c in graded)
        if not seats:
            return "Отметки в выбранных классах не ставятся (1 класс) или учеников нет."
        n0 = sum(c.counts.get("no_marks", 0) for c in graded)
        n1 = sum(c.counts.get("one_mark", 0) for c in graded)
        return (
            f"Из {seats} пар «ученик — предмет»: без отметок — {n0} ({n0 / seats:.0%}), "
            f"с одной отметкой — {n1} ({n1 / seats:.0%})."
        ).replace("%", "\u00a0%")

    def rules(self) -> list[str]:
        s, d = self.settings, self.run.deadlines
        norms = ", ".join(
            f"{h} ч{' и более' if i == len(s.min_marks_per_quarter) - 1 else ''} — {n}"
            for i, (h, n) in enumerate(s.min_marks_per_quarter.items())
        )
        return [
            f"Норма накопляемости: за четверть ({s.quarter_weeks} нед.) при недельной нагрузке "
            f"{norms} отметок; за {self.run.scope.weeks} нед. проверяемого срока — "
            "пропорционально, с округлением вверх (не меньше 1). Часов в неделю — проведённые "
            "уроки, делённые на недели, в которые у класса были уроки.",
            "Отметка за период сверяется со средневзвешенной текущих отметок периода "
            "(двойная отметка «4/5» — обе, «зач»/«осв» не входят); округление вверх с дробной "
            f"части {_num(s.period_mark_round_up)} (например, 3,5 → {half_up(3.5, s.period_mark_round_up)}).",
            f"Срок выставления отметок за письменные работы: {d.grades_2_9} дн. в 2–9 классах, "
            f"{d.grades_10_11} дн. в 10–11 классах после урока.",
            f"Пропуск «Н» считается без причины, если причина (Б, У) не указана за "
            f"{s.absence_reason_days} дн.; в 1 классе отметки и домашние задания не ставятся.",
            "Цвет ячейки: зелёный — норма, жёлтый — обратить внимание, красный — нарушение "
            f"(доля {s.share_bad:.0%} и больше; исправлений, опозданий — {s.count_bad} и больше; "
            f"накопляемость ниже {s.accumulation_bad:.0%}).".replace("%", "\u00a0%"),
        ]

    def class_lines(self) -> list[tuple[str, int, str]]:
        """``(class name, problems, line)`` for every class looked at, clean ones too."""
        per: dict[str, Counter[str]] = {cid: Counter() for cid in self.result.class_ids}
        for f in self.result.findings:
            if f.problem:
                per.setdefault(f.class_id, Counter())[f.kind] += 1
        out = []
        for cid in sorted(per, key=self._class_order):
            c = per[cid]
            name = self.names.class_name(cid)
            total = sum(c.values())
            if not total:
                out.append((name, 0, f"{name}: замечаний нет."))
                continue
            parts = ", ".join(f"{_lower(SECTION_SHORT[s])} — {c[s]}" for s in SECTIONS if c[s])
            noun = text.plural(total, "замечание", "замечания", "замечаний")
            out.append((name, total, f"{name}: {total} {noun} ({parts})."))
        return out

    def lines(self) -> list[str]:
        return [
            self.subtitle,
            self.verdict,
            self.scope_line,
            self.teachers_line,
            self.pupils_line,
            *(line for _, _, line in self.class_lines()),
            *self.rules(),
        ]

    # -- order --------------------------------------------------------------------------------
    def _class_order(self, cid: str | None) -> tuple[int, str]:
        c = self.names.roster.classes.get(cid or "")
        if isinstance(c, SchoolClass):
            return (c.parallel, c.name)
        return (99, self.names.class_name(cid))

    def _course_order(self, c: CourseStats) -> tuple[Any, ...]:
        return (
            self._class_order(c.class_id),
            self.names.subject_name(c.subject_id),
            self.names.subgroup_name(c.subgroup_id),
        )

    # -- the sections ------------------------------------------------------------------------
    def rows(self, section: str) -> list[Row]:
        if self._rows is None:
            self._rows = {s: [] for s in SECTIONS}
            for f in self.result.findings:
                self._rows[f.kind].append(self.row(f))
            for rows in self._rows.values():
                rows.sort(key=self._row_order)
        return self._rows[section]

    def _row_order(self, r: Row) -> tuple[Any, ...]:
        cls = self.names.roster.classes
        parallel = next((c.parallel for c in cls.values() if c.name == r.class_name), 99)
        return (
            parallel,
            r.class_name,
            r.subject,
            r.day or dt.date.min,
            r.number or 0,
            r.pupil,
            r.key,
        )

    def _teacher(self, f: Finding) -> str:
        return self.names.teacher_short(f.teacher_id) if f.teacher_id else ""

    def row(self, f: Finding) -> Row:
        n = self.names
        d = f.detail
        old = new = who = when = ""
        match f.kind:
            case "no_marks":
                what = (
                    f"нет ни одной отметки при норме {d['norm']} "
                    f"(уроков — {d['lessons']}, {d['hours']} ч в неделю)"
                )
            case "one_mark":
                what = f"одна отметка «{d['value']}» при норме {d['norm']}"
            case "below_norm":
                what = f"отметок — {d['marks']} при норме {d['norm']} ({d['hours']} ч в неделю)"
            case "no_topic":
                what = "тема урока не записана"
            case "no_homework":
                what = "домашнее задание не записано"
            case "absence_no_reason":
                what = "«Н» — причина пропуска не указана"
            case "late_mark":
                what = (
                    f"«{d['work_type']}», отметка «{d['value']}»: выставлена на "
                    f"{d['late_by']} дн. позже срока ({d['allowed']} дн.)"
                )
                when = text.moment(d["entered"], self.run.tz)
            case "changed_mark":
                deleted = d["op"] == "delete"
                is_period = d["entity"] == "final_marks"
                noun = "отметка за период" if is_period else "отметка"
                restored = not deleted and "deleted_at" in d["old"]
                verb = "удалена" if deleted else "восстановлена" if restored else "исправлена"
                what = f"{noun} {verb}"
                if is_period:
                    what += f" («{n.period_name(d.get('period_id'))}»)"
                old = _mark_text(d["old"])
                new = "удалена" if deleted else _mark_text(d["new"])
                if restored:
                    old, new = "удалена", _mark_text(d["new"]) if "value" in d["new"] else "—"
                who = f"{d['actor'] or '—'} ({text.system_name(d['source'])})"
                when = text.moment(d["at"], self.run.tz)
            case "period_mark":
                period = n.period_name(d["period_id"])
                if d["average"] is None:
                    what = f"«{period}»: стоит «{d['value']}», а текущих отметок за период нет"
                else:
                    what = (
                        f"«{period}»: стоит «{d['value']}», средняя {_num(d['average'])} по "
                        f"{d['marks']} отм. → «{d['expected']}»"
                    )
                old = str(d["expected"] or "—")
                new = str(d["value"])
            case "substitution":
                sub = n.teacher_short(d["substitute_id"])
                what = (
                    f"замещающий учитель совпадает с учителем урока ({sub})"
                    if d["same"]
                    else f"замена: {sub} вместо {self._teacher(f) or 'учителя'}"
                )
            case _:
                what = f.kind
        subject = n.subject_name(f.subject_id)
        if f.subgroup_id:
            subject += f" ({n.subgroup_name(f.subgroup_id)})"
        return Row(
            f.kind,
            n.class_name(f.class_id),
            subject,
            self._teacher(f),
            n.pupil(f.pupil_id) if f.pupil_id else "",
            f.day,
            f.number,
            what,
            old,
            new,
            who,
            when,
            f.key,
            f.problem,
        )

    # -- figures -----------------------------------------------------------------------------
    def courses(self) -> list[CourseStats]:
        return sorted(self.result.courses, key=self._course_order)

    SUMMARY_KINDS = (
        "no_marks",
        "one_mark",
        "below_norm",
        "no_topic",
        "no_homework",
        "absence_no_reason",
        "late_mark",
        "changed_mark",
        "period_mark",
        "substitution",
    )

    def summary_paint(self, c: CourseStats) -> dict[str, str]:
        """Course column → paint."""
        s = self.settings
        out: dict[str, str] = {}
        if (p := s.paint_accumulation(c.accumulation)) is not None:
            out["accumulation"] = p
        for kind in self.SUMMARY_KINDS:
            n = c.counts.get(kind, 0)
            if kind in ("no_marks", "one_mark", "below_norm"):
                if c.graded and c.pupils:
                    out[kind] = s.paint_share(n, c.pupils)
            elif kind in ("no_topic", "no_homework"):
                if kind == "no_topic" or c.graded:
                    out[kind] = s.paint_share(n, c.lessons)
            elif kind == "substitution":
                if c.counts.get(WRONG_SUBSTITUTION, 0):
                    out[kind] = "bad"
            else:
                out[kind] = s.paint_count(n)
        return out

    def accumulation(self) -> tuple[list[str], list[str], dict[tuple[str, str], float | None]]:
        """The heat map: class names, subject names, share of pupils at the norm per class ×
        subject (subgroups together)."""
        at: Counter[tuple[str, str]] = Counter()
        seats: Counter[tuple[str, str]] = Counter()
        classes: set[str] = set()
        subjects: set[str] = set()
        for c in self.result.courses:
            if not c.graded:
                continue
            classes.add(c.class_id)
            subjects.add(c.subject_id)
            at[(c.class_id, c.subject_id)] += c.at_norm
            seats[(c.class_id, c.subject_id)] += c.pupils
        rows = sorted(classes, key=self._class_order)
        cols = sorted(subjects, key=self.names.subject_name)
        values: dict[tuple[str, str], float | None] = {}
        for cid in rows:
            for sid in cols:
                key = (cid, sid)
                if seats[key]:
                    values[(self.names.class_name(cid), self.names.subject_name(sid))] = (
                        at[key] / seats[key]
                    )
        return (
            [self.names.class_name(c) for c in rows],
            [self.names.subject_name(s) for s in cols],
            values,
        )

    def weeks(self) -> list[dt.date]:
        return sorted({w for per in self.result.weekly.values() for w in per})

    def weekly(self) -> list[tuple[str, list[tuple[dt.date, int]]]]:
        out = []
        for cid in sorted(self.result.weekly, key=self._class_order):
            per = self.result.weekly[cid]
            out.append((self.names.class_name(cid), [(w, per.get(w, 0)) for w in self.weeks()]))
        return out

    def teachers(self) -> list[TeacherStats]:
        return sorted(self.result.teachers, key=lambda t: self.names.teacher(t.teacher_id))

    # -- charts (HTML) -----------------------------------------------------------------------
    def heatmap_svg(self) -> str:
        rows, cols, values = self.accumulation()
        return charts.heatmap(
            "Накопляемость: доля учеников с нормой отметок, %",
            rows,
            cols,
            values,
            self.settings.paint_accumulation,
        )

    def bars_svg(self) -> list[str]:
        series = self.weekly()
        scale = max((v for _, bars in series for _, v in bars), default=0)
        return [
            charts.small_bars(
                "Отметки по неделям",
                name,
                [(f"с {w.strftime('%d.%m')}", v) for w, v in bars],
                scale,
            )
            for name, bars in series
        ]

    # -- formats -------------------------------------------------------------------------------
    def summary_cells(self, c: CourseStats) -> list[Cell]:
        n = self.names
        return [
            n.class_name(c.class_id),
            n.subject_name(c.subject_id),
            n.subgroup_name(c.subgroup_id),
            n.teacher_short(c.teacher_id),
            c.lessons,
            c.weekly_hours,
            c.norm if c.graded else None,
            c.pupils if c.graded else None,
            c.marks if c.graded else None,
            c.accumulation,
            *(c.counts.get(k, 0) for k in self.SUMMARY_KINDS),
        ]

    def summary_columns(self) -> list[Column]:
        return [
            Column("class", "Класс", 8),
            Column("subject", "Предмет", 22),
            Column("subgroup", "Подгруппа", 12),
            Column("teacher", "Учитель", 20),
            Column("lessons", "Уроков", 8, "int"),
            Column("hours", "Часов в неделю", 9, "int"),
            Column("norm", "Норма отметок", 9, "int"),
            Column("pupils", "Учеников", 9, "int"),
            Column("marks", "Отметок", 9, "int"),
            Column("accumulation", "Накопляемость", 12, "ratio"),
            *(Column(k, SECTION_SHORT[k], 11, "int") for k in self.SUMMARY_KINDS),
        ]

    def document(self) -> Document:
        doc = Document(self.title, self.lines())
        keys = [c.key for c in self.summary_columns()]

        courses = self.courses()
        painted = [self.summary_paint(c) for c in courses]
        cells = [self.summary_cells(c) for c in courses]
        paint_of = {id(row): p for row, p in zip(cells, painted, strict=True)}
        doc.tables.append(
            Table(
                "Сводка",
                f"{self.title}: по классам, предметам и учителям",
                self.summary_columns(),
                cells,
                lambda row: {keys.index(k): v for k, v in paint_of.get(id(row), {}).items()},
            )
        )
        rows, cols, values = self.accumulation()
        heat_cols = [
            Column("class", "Класс", 8),
            *(Column(f"s{i}", s, 12, "ratio") for i, s in enumerate(cols)),
        ]
        s = self.settings
        doc.tables.append(
            Table(
                "Накопляемость",
                "Накопляемость: доля учеников с нормой отметок",
                heat_cols,
                [[r, *(values.get((r, c)) for c in cols)] for r in rows],
                # a conditional colour scale, red at the bad threshold, green at the ok one:
                # the cells stay painted right when someone edits them in Excel
                scale=(1, len(cols)) if cols else None,
                scale_range=(s.accumulation_bad, s.accumulation_ok),
                note="Красный — накопляемость "
                f"{s.accumulation_bad:.0%} и ниже, зелёный — {s.accumulation_ok:.0%} и выше.",
            )
        )
        weeks = self.weeks()
        series = self.weekly()
        week_cols = [
            Column("class", "Класс", 8),
            *(Column(f"w{i}", f"с {text.day(w)}", 12, "int") for i, w in enumerate(weeks)),
        ]
        doc.tables.append(
            Table(
                "Отметки по неделям",
                "Текущие отметки по неделям (неделя с понедельника)",
                week_cols,
                [[name, *(v for _, v in bars)] for name, bars in series],
            )
        )
        if weeks and series:
            doc.charts.append(
                Chart(
                    "Диаграмма по неделям",
                    "Текущие отметки по неделям, по классам",
                    "Отметки по неделям",
                    0,
                    (1, len(weeks)),
                    y_title="отметок",
                    x_title="класс",
                )
            )
        doc.tables.append(
            Table(
                "Учителя",
                "По учителям",
                self.teacher_columns(),
                [self.teacher_cells(t) for t in self.teachers()],
                lambda row: {
                    i: s.paint_count(int(v))
                    for i, v in enumerate(row)
                    if i >= 7 and isinstance(v, int)
                },
            )
        )
        for section in SECTIONS:
            rows_ = self.rows(section)
            doc.tables.append(
                Table(
                    SECTION_SHORT[section],
                    f"{SECTION_TITLE[section]} — {len(rows_)}",
                    ROW_COLUMNS,
                    [r.cells() for r in rows_],
                    None if section in INFORMATIONAL else _paint_what,
                )
            )
        return doc

    def teacher_columns(self) -> list[Column]:
        return [
            Column("teacher", "Учитель", 30),
            Column("lessons", "Уроков", 8, "int"),
            Column("topic", "С темой", 9, "ratio"),
            Column("homework", "С ДЗ", 9, "ratio"),
            Column("marks", "Отметок", 9, "int"),
            Column("substituted", "Замещал уроков", 10, "int"),
            Column("works", "Ведёт журнал", 10),
            *(Column(k, SECTION_SHORT[k], 11, "int") for k in self.TEACHER_KINDS),
        ]

    TEACHER_KINDS = ("no_topic", "no_homework", "absence_no_reason", "late_mark", "changed_mark")

    def teacher_cells(self, t: TeacherStats) -> list[Cell]:
        return [
            self.names.teacher(t.teacher_id),
            t.lessons,
            t.with_topic / t.lessons if t.lessons else None,
            t.with_homework / t.lessons if t.lessons else None,
            t.marks,
            t.substituted,
            ("да" if t.works_in_journal else "нет") if t.lessons else "",
            *(t.counts.get(k, 0) for k in self.TEACHER_KINDS),
        ]

    def payload(self) -> dict[str, Any]:
        scope = self.run.scope
        rows, cols, values = self.accumulation()
        return {
            "report": "journal_control",
            "school": {"id": self.run.school_id, "name": self.run.school_name},
            "made_at": self.run.made_at.astimezone(self.run.tz),
            "scope": {
                "kind": scope.kind,
                "label": scope.label,
                "start": scope.start,
                "end": scope.end,
                "as_of": scope.as_of,
                "periods": [self.names.period_name(p) for p in scope.period_ids],
            },
            "verdict": self.verdict,
            "lines": self.lines(),
            "rules": self.rules(),
            "settings": self.settings.model_dump(),
            "totals": {"problems": self.problems, **self.counts()},
            "classes": [
                {"class": name, "problems": n, "line": line} for name, n, line in self.class_lines()
            ],
            "courses": [
                dict(
                    zip([c.key for c in self.summary_columns()], self.summary_cells(c), strict=True)
                )
                | {"paint": self.summary_paint(c)}
                for c in self.courses()
            ],
            "teachers": [
                dict(
                    zip([c.key for c in self.teacher_columns()], self.teacher_cells(t), strict=True)
                )
                for t in self.teachers()
            ],
            "accumulation": {r: {c: values.get((r, c)) for c in cols} for r in rows},
            "marks_per_week": {
                name: {w.isoformat(): v for w, v in bars} for name, bars in self.weekly()
            },
            "sections": {s: [r.to_json() for r in self.rows(s)] for s in SECTIONS},
        }


__all__ = ["ROW_COLUMNS", "SECTION_SHORT", "SECTION_TITLE", "ControlView", "Row"]
