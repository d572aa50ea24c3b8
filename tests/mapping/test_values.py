"""Every mark value and attendance code of domain.md parses; everything else is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping.values import AttendanceCode, InvalidValue, MarkKind, MarkValue


@pytest.mark.parametrize(
    ("raw", "kind", "numbers", "canonical"),
    [
        ("1", MarkKind.NUMERIC, (1,), "1"),
        ("2", MarkKind.NUMERIC, (2,), "2"),
        ("3", MarkKind.NUMERIC, (3,), "3"),
        ("4", MarkKind.NUMERIC, (4,), "4"),
        ("5", MarkKind.NUMERIC, (5,), "5"),
        (" 5 ", MarkKind.NUMERIC, (5,), "5"),
        (5, MarkKind.NUMERIC, (5,), "5"),
        ("4/5", MarkKind.DOUBLE, (4, 5), "4/5"),
        ("2/3", MarkKind.DOUBLE, (2, 3), "2/3"),
        ("зач", MarkKind.PASS, (), "зач"),
        ("Зачёт", MarkKind.PASS, (), "зач"),
        ("незач", MarkKind.FAIL, (), "незач"),
        ("осв", MarkKind.EXEMPT, (), "осв"),
        ("н/а", MarkKind.NOT_ATTESTED, (), "н/а"),
        ("Н/А", MarkKind.NOT_ATTESTED, (), "н/а"),
    ],
)
def test_valid_mark_values(
    raw: object, kind: MarkKind, numbers: tuple[int, ...], canonical: str
) -> None:
    value = MarkValue.parse(raw)
    assert value.kind is kind
    assert value.numbers == numbers
    assert str(value) == canonical
    assert MarkValue.parse(str(value)) == value


@pytest.mark.parametrize(
    "raw",
    [
        "0",
        "6",
        "10",
        "-1",
        "",
        " ",
        "4/",
        "/5",
        "4/5/3",
        "4-5",
        "5+",
        "отл",
        "nb",
        "4.5",
        True,
        None,
        4.0,
    ],
)
def test_invalid_mark_values(raw: object) -> None:
    with pytest.raises(InvalidValue):
        MarkValue.parse(raw)


@pytest.mark.parametrize("raw", [".", "точка"])
def test_a_dot_is_a_debt_not_a_mark(raw: str) -> None:
    with pytest.raises(InvalidValue, match="debt"):
        MarkValue.parse(raw)


@given(st.text(max_size=6))
def test_parse_is_total_and_round_trips(raw: str) -> None:
    try:
        value = MarkValue.parse(raw)
    except InvalidValue:
        return
    assert MarkValue.parse(str(value)) == value


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Б", AttendanceCode.ILL),
        ("У", AttendanceCode.EXCUSED),
        ("Н", AttendanceCode.UNEXCUSED),
        ("О", AttendanceCode.LATE),
        ("н", AttendanceCode.UNEXCUSED),
    ],
)
def test_attendance_codes(raw: str, code: AttendanceCode) -> None:
    assert AttendanceCode.parse(raw) is code


@pytest.mark.parametrize("raw", ["ОП", "H", "B", "", "НН", None, 1])
def test_invalid_attendance_codes(raw: object) -> None:
    # "ОП" is a system's spelling of late: the profile maps it, the canonical model does not.
    with pytest.raises(InvalidValue):
        AttendanceCode.parse(raw)
