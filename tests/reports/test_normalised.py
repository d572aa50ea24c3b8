"""Text that differs only as the mapping normalises it (ё/е, runs of spaces, dashes, Latin
look-alike letters) is no difference: the system's side spelled differently, end to end."""

from __future__ import annotations

import datetime as dt

from core.entities import Entity
from mapping.model import Lesson, Subject
from reports.reconcile import Request, reconcile
from sync import jobs
from tests.reports.worlds import _copy
from tests.sync.worlds import World


def test_spelling_only_differences_are_matched_after_normalising(
    clean: tuple[World, object],
) -> None:
    world, sim = clean
    new = _copy(world.school)
    later = max(r.modified_at for r in world.school.all_records() if r.modified_at)
    later += dt.timedelta(hours=1)
    # a topic with ё for е and doubled spaces; a subject's name with a Latin «о» and an en dash
    i = next(i for i, le in enumerate(new.lessons) if le.topic and "е" in le.topic)
    le = new.lessons[i]
    assert le.topic is not None
    topic = le.topic.replace("е", "ё", 1).replace(" ", "   ", 1) + " "
    new.lessons[i] = Lesson.model_validate(
        {**le.model_dump(), "topic": topic, "modified_at": later}
    )
    k = next(i for i, s in enumerate(new.subjects) if "о" in s.name)
    s = new.subjects[k]
    name = s.name.replace("о", "o", 1)  # Latin o inside a Cyrillic word
    new.subjects[k] = Subject.model_validate({**s.model_dump(), "name": name, "modified_at": later})
    sim.clock.advance(hours=1)  # type: ignore[attr-defined]
    sim.sync_to(new)  # type: ignore[attr-defined]

    job = jobs.open_job(world.store, world.school_config.setup("es2"))
    try:
        outcome = reconcile(world.store, job, Request(frozenset({Entity.LESSONS, Entity.SUBJECTS})))
    finally:
        job.close()
    assert outcome.differences == 0
    counts = outcome.summary["entities"]
    assert counts["lessons"]["normalised"] == 1
    assert counts["subjects"]["normalised"] == 1

    # and a real change of the same topic is a difference
    new.lessons[i] = Lesson.model_validate(
        {**le.model_dump(), "topic": "Совсем другая тема", "modified_at": later}
    )
    sim.clock.advance(hours=1)  # type: ignore[attr-defined]
    sim.sync_to(new)  # type: ignore[attr-defined]
    job = jobs.open_job(world.store, world.school_config.setup("es2"))
    try:
        again = reconcile(world.store, job, Request(frozenset({Entity.LESSONS})))
    finally:
        job.close()
    assert again.summary["sections"] == {"different": 1}
