"""The pure parts of a reconciliation: what counts as a difference, the sorted spill, the merge,
the window of a class and a period."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given
from hypothesis import strategies as st

from core.entities import Entity
from reports.reconcile.compare import FieldDiff, difference_key, field_diffs, main_fields, text_key
from reports.reconcile.places import Place, Places, Window
from reports.reconcile.sorting import SortedSpill, last_of_each, merge
from store.queries import LessonKey


def test_text_differing_only_in_spelling_is_not_a_difference() -> None:
    store = {"topic": "Ёлки и  пни", "homework": "§ 5 – упр. 3", "value": "5"}
    system = {"topic": "Елки и пни ", "homework": "§ 5-упр. 3", "value": "5"}
    assert field_diffs(store, system) == ([], True)
    # Latin look-alike letters inside a Russian word
    assert field_diffs({"last_name": "Петров"}, {"last_name": "Пeтрoв"}) == ([], True)


def test_real_differences_are_named_field_by_field_with_both_values() -> None:
    diffs, spelling = field_diffs(
        {"value": "4", "topic": "Дроби", "closed": True},
        {"value": "5", "topic": "Проценты", "closed": False},
        skip={"closed"},
    )
    assert diffs == [FieldDiff("topic", "Дроби", "Проценты"), FieldDiff("value", "4", "5")]
    assert not spelling
    assert text_key("a") != text_key("b")


def test_a_personal_field_is_stored_without_its_values() -> None:
    assert FieldDiff("last_name", "Иванов", "Иванова").to_json() == {
        "field": "last_name",
        "personal": True,
    }
    assert FieldDiff("value", "4", "5").to_json() == {"field": "value", "store": "4", "system": "5"}
    rows = main_fields(Entity.PUPILS, {"last_name": "Иванов", "status": "active"}, side="system")
    assert [r.to_json() for r in rows] == [
        {"field": "last_name", "personal": True},
        {"field": "status", "store": None, "system": "active"},
    ]


def test_a_difference_key_is_the_same_for_the_same_difference() -> None:
    a = difference_key("different", Entity.MARKS, "g1", "1", ["value", "weight"])
    b = difference_key("different", Entity.MARKS, "g1", "1", ["weight", "value"])
    assert a == b
    assert a != difference_key("different", Entity.MARKS, "g1", "1", ["value"])
    assert (
        difference_key("only_system", Entity.MARKS, None, "77", []) == "only_system|marks|ext:77|"
    )


@given(st.lists(st.tuples(st.text(min_size=1, max_size=6), st.integers()), max_size=300))
def test_the_spill_sorts_like_sorted_with_runs_on_disk(items: list[tuple[str, int]]) -> None:
    with SortedSpill(run_size=17, block=5) as spill:
        for item in items:
            spill.add(item)
        got = list(spill)
        assert spill.runs == len(items) // 17
    assert got == sorted(items, key=lambda t: t[0])


def test_the_last_of_each_key_wins() -> None:
    assert list(last_of_each(iter([("a", 1), ("a", 2), ("b", 3)]))) == [("a", 2), ("b", 3)]
    assert list(last_of_each(iter([]))) == []


def test_the_merge_pairs_equal_keys_and_leaves_the_rest_alone() -> None:
    rng = random.Random(4)
    left = sorted(rng.sample(range(100), 40))
    right = sorted(rng.sample(range(100), 40))
    pairs = list(merge(iter(left), iter(right), lambda x: f"{x:03}", lambda x: f"{x:03}"))
    both = [(a, b) for a, b in pairs if a is not None and b is not None]
    assert [a for a, _ in both] == sorted(set(left) & set(right))
    assert sorted(a for a, b in pairs if b is None) == sorted(set(left) - set(right))
    assert sorted(b for a, b in pairs if a is None) == sorted(set(right) - set(left))


def test_a_window_of_a_class_and_a_period() -> None:
    q1 = (dt.date(2025, 9, 1), dt.date(2025, 10, 26))
    w = Window(
        class_ids=frozenset({"c5a"}),
        days={5: q1},
        period_ids=frozenset({"q1"}),
        class_parallel={"c5a": 5, "c10": 10},
    )
    places = Places({"l1": LessonKey("c5a", "math", dt.date(2025, 9, 3), 1)}, {"p1": "c5a"})
    mark = places.of(Entity.MARKS, "m1", {"lesson_id": "l1", "pupil_id": "p1"})
    assert mark == Place("c5a", "math", "p1", dt.date(2025, 9, 3))
    assert w.covers(Entity.MARKS, mark)
    assert not w.covers(Entity.MARKS, Place("c5a", "math", "p1", dt.date(2025, 11, 5)))
    assert not w.covers(Entity.MARKS, Place("c10", "math", "p1", dt.date(2025, 9, 3)))
    assert w.covers(Entity.FINAL_MARKS, Place("c5a", "math", "p1", None, "q1"))
    assert not w.covers(Entity.FINAL_MARKS, Place("c5a", "math", "p1", None, "q2"))
    assert w.covers(Entity.SUBJECTS, Place())
    assert Window().covers(Entity.MARKS, Place())
