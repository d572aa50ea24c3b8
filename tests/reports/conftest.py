"""Worlds for the report tests: the tiny school synced from the ES2 simulator; the same with every
kind of difference seeded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.generator import generate_school
from fixtures.school import SchoolData
from tests.reports.worlds import SeededWorld, seed, synced_world
from tests.sync.worlds import SECRETS, World

OUTPUT = Path(__file__).resolve().parents[1] / "output"


@pytest.fixture(scope="session")
def tiny_school() -> SchoolData:
    return generate_school(3, "tiny")


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def clean(tiny_school: SchoolData, tmp_path: Path, secrets: None) -> Iterator[tuple[World, object]]:
    """The school synced and left alone: no differences."""
    yield from synced_world(tiny_school, f"sqlite:///{tmp_path}/store.db")


@pytest.fixture
def seeded(tiny_school: SchoolData, tmp_path: Path, secrets: None) -> Iterator[SeededWorld]:
    """The school synced, then every kind of difference seeded."""
    for world, sim in synced_world(tiny_school, f"sqlite:///{tmp_path}/store.db"):
        yield seed(world, sim)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where tests keep what a person should look at (git-ignored)."""
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT
