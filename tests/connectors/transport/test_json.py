"""JSON nested beyond the bound is a clear error, never a RecursionError."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.transport import MAX_DEPTH, TooDeep, parse_json


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def nested_objects(depth: int) -> str:
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


@pytest.mark.parametrize("depth", [1, 2, MAX_DEPTH])
def test_within_the_bound(depth: int) -> None:
    assert parse_json(nested(depth)) is not None
    assert parse_json(nested_objects(depth)) is not None


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 500, 100_000])
def test_beyond_the_bound(depth: int) -> None:
    with pytest.raises(TooDeep, match=f"deeper than {MAX_DEPTH} levels"):
        parse_json(nested(depth))
    with pytest.raises(TooDeep):
        parse_json(nested_objects(depth))


def test_a_wide_page_is_not_deep() -> None:
    item = '{"id": 1, "work_type": {"code": "КР"}}'
    page = '{"data": [' + ",".join([item] * 2000) + "]}"
    assert len(parse_json(page)["data"]) == 2000


def test_a_deep_branch_beside_shallow_ones_is_found() -> None:
    text = '{"data": [1, 2, {"x": ' + nested(MAX_DEPTH) + "}]}"
    with pytest.raises(TooDeep):
        parse_json(text)


@pytest.mark.parametrize("text", ["", "not json", "{", b"\xff\xfe\x00"])
def test_not_json_is_a_value_error(text: str | bytes) -> None:
    with pytest.raises(ValueError):
        parse_json(text)


def test_a_custom_bound() -> None:
    assert parse_json("[[1]]", max_depth=2) == [[1]]
    with pytest.raises(TooDeep, match=r"deeper than 1 level$"):
        parse_json("[[1]]", max_depth=1)


def _depth(value: object) -> int:
    """The nesting depth of ``value``, recursively (the reference the check must agree with)."""
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=2), inner, max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=_json_values, limit=st.integers(min_value=1, max_value=8))
def test_the_bound_agrees_with_the_nesting_depth(value: object, limit: int) -> None:
    text = json.dumps(value)
    if _depth(value) <= limit:
        assert parse_json(text, max_depth=limit) == value
    else:
        with pytest.raises(TooDeep):
            parse_json(text, max_depth=limit)
