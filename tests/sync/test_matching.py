"""People matching: exactly one candidate links, none creates, several or a near miss go to review."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from mapping.model import Pupil, Teacher
from sync.matching import PeopleIndex

DOB = dt.date(2014, 3, 12)


def pupil(
    pid: str,
    last: str = "Королёва",
    first: str = "Алёна",
    middle: str | None = "Сергеевна",
    dob: dt.date = DOB,
    snils: str | None = None,
) -> Pupil:
    return Pupil(
        id=pid,
        school_id="s",
        last_name=last,
        first_name=first,
        middle_name=middle,
        birth_date=dob,
        snils=snils,
    )


def test_exactly_one_candidate_links_despite_spelling() -> None:
    index = PeopleIndex([pupil("g1"), pupil("g2", last="Иванова")])
    m = index.match(pupil("new", last="КОРОЛЕВА ", first="алена", middle="Сергеевна"))
    assert m.kind == "link" and m.gid == "g1"


def test_hyphens_and_dashes_are_one_surname() -> None:
    index = PeopleIndex([pupil("g1", last="Петрова-Водкина")])
    assert index.match(pupil("n", last="Петрова – Водкина")).gid == "g1"


def test_nobody_matches_creates() -> None:
    assert PeopleIndex([pupil("g1")]).match(pupil("n", last="Смирнова")).kind == "create"
    assert PeopleIndex([]).match(pupil("n")).kind == "create"


def test_two_candidates_go_to_review() -> None:
    m = PeopleIndex([pupil("g1"), pupil("g2")]).match(pupil("n"))
    assert m.kind == "review" and m.candidates == ("g1", "g2") and m.gid is None


def test_near_misses_go_to_review_and_name_nobody() -> None:
    cases = [
        (pupil("g1", dob=dt.date(2014, 3, 13)), "another birth date"),
        (pupil("g1", middle=None), "patronymic missing"),
        (pupil("g1", middle="Петровна"), "another patronymic"),
        (pupil("g1", first="Мария"), "another first name"),
    ]
    for stored, reason in cases:
        m = PeopleIndex([stored]).match(pupil("n"))
        assert m.kind == "review", reason
        assert reason in m.reason
        assert "Королёва" not in m.reason and "Алёна" not in m.reason


def test_snils_decides_when_both_sides_have_one() -> None:
    a, b = "123-456-789 64", "112-233-445 95"
    assert PeopleIndex([pupil("g1", snils=a)]).match(pupil("n", snils=a)).gid == "g1"
    assert PeopleIndex([pupil("g1", snils=a)]).match(pupil("n")).gid == "g1"  # one side has none
    m = PeopleIndex([pupil("g1", snils=a)]).match(pupil("n", snils=b))
    assert m.kind == "review" and "СНИЛС" in m.reason
    m2 = PeopleIndex([pupil("g1", last="Смирнова", snils=a)]).match(pupil("n", snils=a))
    assert m2.kind == "review" and m2.candidates == ("g1",)


def test_teachers_match_by_name_only() -> None:
    t = Teacher(
        id="t1", school_id="s", last_name="Кузнецова", first_name="Ольга", middle_name="Петровна"
    )
    index = PeopleIndex([t])
    assert index.match(t.model_copy(update={"id": "n", "last_name": "кузнецова"})).gid == "t1"
    assert index.match(t.model_copy(update={"id": "n", "middle_name": None})).kind == "review"


names = st.sampled_from(["Ёлкин", "Елкин", "ЁЛКИН", "ёлкин ", " Елкин"])


@given(names, names)
def test_yo_and_case_never_split_a_person(a: str, b: str) -> None:
    index = PeopleIndex([pupil("g1", last=a)])
    assert index.match(pupil("n", last=b)).gid == "g1"
