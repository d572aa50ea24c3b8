"""UTC timestamps as SQLite stores them: one text per instant, whatever zone it was given in."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

from store.types import UTCDateTime

KUZBASS = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture
def table() -> tuple[object, Table]:
    engine = create_engine("sqlite://")
    meta = MetaData()
    t = Table("t", meta, Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    meta.create_all(engine)
    return engine, t


def _stored(engine: object, t: Table, values: list[dt.datetime | None]) -> list[str | None]:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(insert(t), [{"id": i, "at": v} for i, v in enumerate(values)])
        return [r[0] for r in conn.execute(text("SELECT at FROM t ORDER BY id"))]


def test_one_instant_is_one_text_in_any_zone(table: tuple[object, Table]) -> None:
    engine, t = table
    utc = dt.datetime(2026, 3, 2, 3, 15, tzinfo=dt.UTC)
    local = utc.astimezone(KUZBASS)
    later = dt.datetime(2026, 3, 2, 10, 15, 0, 5, tzinfo=dt.UTC)
    got = _stored(engine, t, [local, utc, None, later, local])
    assert got == [
        "2026-03-02 03:15:00.000000",
        "2026-03-02 03:15:00.000000",
        None,
        "2026-03-02 10:15:00.000005",
        "2026-03-02 03:15:00.000000",
    ]
    with engine.begin() as conn:  # type: ignore[attr-defined]
        assert conn.execute(select(t.c.at).where(t.c.id == 0)).scalar_one() == utc


def test_a_naive_time_is_refused_even_beside_the_same_wall_clock(
    table: tuple[object, Table],
) -> None:
    engine, t = table
    aware = dt.datetime(2026, 3, 2, 3, 15, tzinfo=dt.UTC)
    _stored(engine, t, [aware])
    with pytest.raises(Exception, match="naive datetime"):
        _stored(engine, t, [aware.replace(tzinfo=None)])


def test_many_instants_are_each_right(table: tuple[object, Table]) -> None:
    engine, t = table
    start = dt.datetime(2026, 1, 1, tzinfo=KUZBASS)
    values = [start + dt.timedelta(seconds=7 * i) for i in range(5_003)]
    got = _stored(engine, t, [*values, *values[:5]])
    want = [v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f") for v in [*values, *values[:5]]]
    assert got == want
