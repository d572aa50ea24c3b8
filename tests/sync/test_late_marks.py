"""Late entries through the engine (ES2 simulator, real store): only written work has a deadline."""

from __future__ import annotations

from core.entities import Entity
from tests.sync.conftest import pull
from tests.sync.worlds import World, findings

#: the written work types the generator uses (the shipped profiles list them)
WRITTEN = {
    "контрольная работа",
    "самостоятельная работа",
    "диктант",
    "лабораторная работа",
    "практическая работа",
}


def test_only_written_work_entered_late_is_noted(world: World) -> None:
    """The generated school enters some marks days after their lessons — oral answers and
    homework among them: only the marks for written work are noted for the deputy director."""
    assert pull(world).status == "success"
    late = findings(world, status="noted")
    late = [f for f in late if f.kind == "late_mark"]
    assert late, "the generated school has late written work"
    assert {str(f.incoming["work_type"]).lower() for f in late} <= WRITTEN
    lessons = {les.id: les for les in world.school.lessons}
    parallel = {c.id: c.parallel for c in world.school.classes}

    def overdue(m: object) -> bool:
        lesson = lessons[m.lesson_id]  # type: ignore[attr-defined]
        days = 7 if parallel[lesson.class_id] >= 10 else 5
        return (m.created_at.date() - lesson.date).days > days + 1  # type: ignore[attr-defined]

    entered_late = [m for m in world.school.marks if m.created_at is not None and overdue(m)]
    oral = [m for m in entered_late if str(m.work_type).lower() not in WRITTEN]
    assert oral, "the school has oral marks entered late too"
    noted = {f.record_id for f in late}
    gids = {ext: gid for gid, ext in world.ext_map("es2", Entity.MARKS).items()}
    assert not noted & {gids[m.ext_ids["es2"]] for m in oral}
    written_late = [gids[m.ext_ids["es2"]] for m in entered_late if m not in oral]
    assert set(written_late) <= noted
