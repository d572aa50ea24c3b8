"""The printed class journal of the tiny school synced from the ES2 simulator: every mark,
absence, topic and period mark of the class and period is where the paper copy puts it; the PDF
is A4 landscape with a page per subject."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.names import join_fio
from reports.errors import ReportError
from reports.journal_print import read_journal, write_journal
from reports.journal_print.build import COLUMNS_PER_TABLE
from reports.text import zone
from schoolgate.cli import app
from store.queries import Span
from tests.reports.test_reconcile_cli import _config_file
from tests.sync.worlds import World

TZ = zone("Europe/Moscow")


def _facts(world: World, class_name: str, period: str) -> dict[str, object]:
    """What the store holds for the class and period, read without the report's code."""
    sid = world.school.school.id
    with world.store.read() as tx:
        roster = tx.queries.roster(sid)
        klass = next(c for c in roster.classes.values() if c.name == class_name)
        per = next(
            p for p in roster.periods.values() if p.name == period and klass.parallel in p.parallels
        )
        span = Span(per.start, per.end)
        return {
            "class": klass,
            "period": per,
            "pupils": [p for p in roster.pupils.values() if p.class_id == klass.id],
            "lessons": tx.queries.lessons(sid, span, [klass.id]),
            "marks": tx.queries.marks(sid, span, [klass.id]),
            "absences": tx.queries.attendance(sid, span, [klass.id]),
            "finals": [f for f in tx.queries.final_marks(sid) if f.period_id == per.id],
            "subjects": roster.subjects,
        }


def test_the_journal_holds_every_mark_absence_topic_and_period_mark(
    clean: tuple[World, object],
) -> None:
    world, _ = clean
    facts = _facts(world, "5А", "I четверть")
    with world.store.read() as tx:
        j = read_journal(tx, world.school.school.id, "5а", "I четверть", "Школа")
    assert (j.class_name, j.period_name) == ("5А", "I четверть")
    names = {p.id: join_fio(p.last_name, p.first_name, p.middle_name) for p in facts["pupils"]}
    assert {p.id for p in j.pupils} >= set(names)
    assert [p.name for p in j.pupils] == sorted(
        (p.name for p in j.pupils), key=lambda n: n.casefold().replace("ё", "е")
    )
    # every lesson in exactly one subject page, in date order
    placed = Counter(c.id for s in j.subjects for c in s.lessons)
    assert placed == Counter(le.id for le in facts["lessons"])
    assert facts["marks"] and facts["absences"]
    cells = {key: s.cells[key] for s in j.subjects for key in s.cells}
    for m in facts["marks"]:
        assert str(m.value) in cells[(m.pupil_id, m.lesson_id)].split()
    for a in facts["absences"]:
        assert cells[(a.pupil_id, a.lesson_id)].split()[-1] == str(a.code)
    assert sum(sum(c.values()) for c in j.absences.values()) == len(facts["absences"])
    lesson_subject = {le.id: le.subject_id for le in facts["lessons"]}
    finals = {(f.pupil_id, f.subject_id): str(f.value) for f in facts["finals"]}
    assert finals
    shown = 0
    for s in j.subjects:
        subject_ids = {lesson_subject[c.id] for c in s.lessons}
        (subject_id,) = subject_ids
        for pid, value in s.period_marks.items():
            assert finals[(pid, subject_id)] == value
            shown += 1
    assert shown >= len([k for k in finals if k[0] in names])
    topics = {c.topic for s in j.subjects for c in s.lessons}
    assert {le.topic or "" for le in facts["lessons"]} == topics


def test_html_and_pdf_are_the_paper_copy(
    clean: tuple[World, object], tmp_path: Path, output_dir: Path
) -> None:
    world, _ = clean
    sid = world.school.school.id
    html = output_dir / "journal-5A.html"
    j = write_journal(world.store, sid, "5А", "I четверть", "html", html, tz=TZ,
                      school_name="МБОУ СОШ № 3")  # fmt: skip
    page = html.read_text("utf-8")
    assert page.count('<section class="part subject"') == len(j.subjects)
    assert "Заместитель директора по УВР" in page and "МБОУ СОШ № 3" in page
    assert 'content: "МБОУ СОШ № 3"' in page  # the running header of every printed page
    for s in j.subjects:
        assert f'data-subject="{s.title}"' in page
        assert page.count('<table class="grid">', page.index(f'data-subject="{s.title}"')) > 0
        assert len(s.lessons) <= COLUMNS_PER_TABLE * len(s.chunks())

    # the PDF as WeasyPrint lays it out (`journal-print --format pdf` writes the same)
    from weasyprint import HTML

    doc = HTML(string=page).render()
    pdf = output_dir / "journal-5A.pdf"
    doc.write_pdf(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    # the cover, at least a page per subject, the absences and period marks
    assert len(doc.pages) >= len(j.subjects) + 2
    assert all(p.width > p.height for p in doc.pages)  # landscape
    assert round(doc.pages[0].width * 25.4 / 96) == 297  # A4: 297 mm wide
    # every page's header names the school, class and period; its footer the signature and page
    from weasyprint.formatting_structure.boxes import MarginBox

    n = len(doc.pages)
    for i, pg in enumerate(doc.pages, start=1):
        margins = {
            b.at_keyword: "".join(t.text for t in b.descendants() if getattr(t, "text", None))
            for b in pg._page_box.children
            if isinstance(b, MarginBox)
        }
        assert margins["@top-left"] == "МБОУ СОШ № 3"
        assert margins["@top-right"].startswith("Классный журнал 5А класса · I четверть (")
        assert margins["@bottom-left"].startswith("Заместитель директора по УВР ____")
        assert margins["@bottom-right"] == f"Лист {i} из {n}"


def test_journal_print_command(clean: tuple[World, object], tmp_path: Path) -> None:
    world, _ = clean
    cfg = str(_config_file(world.config, tmp_path))
    runner = CliRunner()
    out = tmp_path / "j.pdf"
    done = runner.invoke(
        app,
        ["journal-print", "--config", cfg, "--class", "5А", "--period", "I четверть",
         "--format", "pdf", "--out", str(out)],
        catch_exceptions=False,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "Классный журнал 5А класса, I четверть" in done.output
    assert out.read_bytes().startswith(b"%PDF")
    wrong = runner.invoke(
        app, ["journal-print", "--config", cfg, "--class", "5А", "--period", "V четверть"]
    )
    assert wrong.exit_code == 2 and "no period 'V четверть'" in wrong.output


def test_an_unknown_class_is_an_error(clean: tuple[World, object]) -> None:
    world, _ = clean
    with world.store.read() as tx, pytest.raises(ReportError, match="no class"):
        read_journal(tx, world.school.school.id, "9Я", "I четверть", "Школа")
