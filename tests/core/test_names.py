from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.names import InvalidName, join_fio, name_key, normalise_name, split_fio, tidy_name

_LETTERS = st.text(alphabet="абвгдеёжзиклмнопрстуфхцчшщыэюяАБВЕЁКЛМНОП", min_size=1, max_size=8)


@pytest.mark.parametrize(
    ("fio", "parts"),
    [
        ("Петров Иван Алексеевич", ("Петров", "Иван", "Алексеевич")),
        ("Петров-Водкин Иван", ("Петров-Водкин", "Иван", None)),
        ("  Петров – Водкин   Кузьма\tСергеевич ", ("Петров-Водкин", "Кузьма", "Сергеевич")),
        ("Римский—Корсаков Николай", ("Римский-Корсаков", "Николай", None)),
        ("Алиев Рашид Мамед оглы", ("Алиев", "Рашид", "Мамед оглы")),
        ("Ёлкина Алёна Петровна", ("Ёлкина", "Алёна", "Петровна")),
    ],
)
def test_split_fio(fio: str, parts: tuple[str, str, str | None]) -> None:
    assert split_fio(fio) == parts


@pytest.mark.parametrize("fio", ["", "   ", "Петров", " - "])
def test_split_refuses_without_leaking(fio: str) -> None:
    with pytest.raises(InvalidName) as info:
        split_fio(fio)
    assert fio.strip() == "" or fio.strip() not in str(info.value)


def test_normalise_folds_variants() -> None:
    assert normalise_name("Ёлкин Пётр") == normalise_name("ЕЛКИН  петр") == "елкин петр"
    assert normalise_name("Петров — Водкин") == "петров-водкин"
    assert normalise_name("Петров\u2011Водкин") == "петров-водкин"
    assert tidy_name("Ёлкин  Пётр") == "Ёлкин Пётр"
    assert name_key("Ёлкин Пётр") == name_key("елкин петр")
    assert name_key("Ёлкин Пётр") != name_key("Ёлкин Павел")
    assert "елкин" not in name_key("Ёлкин Пётр")


@given(_LETTERS, _LETTERS, st.one_of(st.none(), _LETTERS))
def test_join_then_split_roundtrips(last: str, first: str, middle: str | None) -> None:
    assert split_fio(join_fio(last, first, middle)) == (last, first, middle)


@given(st.text(max_size=40))
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once
    assert "ё" not in once and "  " not in once


@given(_LETTERS, _LETTERS)
def test_case_and_yo_do_not_matter(a: str, b: str) -> None:
    fio = f"{a} {b}"
    assert normalise_name(fio.upper()) == normalise_name(fio.lower().replace("ё", "е"))
