"""Worlds of the reliability suite: the API over a store holding two generated schools (shared
with the API tests' helpers), and tiny schools for the sync-side cases."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.generator import generate_school
from fixtures.school import SchoolData
from store import Store
from tests.api.conftest import A, B, fill, school_records
from tests.sync.worlds import SECRETS


@pytest.fixture(scope="session")
def tiny_school() -> SchoolData:
    return generate_school(3, "tiny")


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


@pytest.fixture(scope="session")
def api_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reliab_api") / "store.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.upgrade()
        fill(store, school_records(generate_school(1, "tiny"), A))
        fill(store, school_records(generate_school(2, "tiny"), B))
    return path


@pytest.fixture
def api_store(api_template: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "store.db"
    shutil.copyfile(api_template, path)
    s = Store.open(f"sqlite:///{path}")
    try:
        yield s
    finally:
        s.close()
