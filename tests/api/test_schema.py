"""schemathesis against the server's own OpenAPI description, over real HTTP: for every
operation, generated requests (valid and invalid) never get a server error, and every answer —
status, content type, headers, body — matches the description. Bounded: a few dozen examples per
operation, once with any school and once with a school the token may use."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from api import create_app
from api.tokens import hash_secret
from store import Store
from tests.api.conftest import A, B, api_settings

#: the token every generated request carries (made in the store under test by ``bearer``)
SECRET = "sgt_schemathesis-" + "x" * 40


def _description() -> dict[str, Any]:
    """The OpenAPI description as the server gives it (it does not depend on the store's
    content; the store is never opened)."""
    with Store.open("sqlite://") as unused:
        return create_app(unused, api_settings()).openapi()


ACCEPTED = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"]


def _config(**parameters: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "auth": {"openapi": {"HTTPBearer": {"bearer": SECRET}}},
            "parameters": parameters,
            "checks": {
                # a request valid by the schema may still be refused for what it means: a
                # cursor the server did not give (400), a record the school does not have or a
                # rule it breaks (422) — each documented
                "positive_data_acceptance": {"expected-statuses": ACCEPTED}
            },
        }
    )


any_school = schemathesis.openapi.from_dict(_description(), config=_config())
school_a = schemathesis.openapi.from_dict(_description(), config=_config(**{"path.school": A}))

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    # one store and server per operation, shared by its examples (they only add records)
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.fixture
def bearer(store: Store) -> None:
    with store.begin() as tx:
        tx.tokens.create(
            name="schemathesis",
            token_hash=hash_secret(SECRET),
            schools=[A, B],
            scopes=["feed", "snapshot", "personal", "journal"],
            pupil_id=None,
            rate=1e6,
            burst=1_000_000,
        )


@any_school.parametrize()
@SETTINGS
def test_any_school(case: schemathesis.Case, bearer: None, server: str) -> None:
    case.call_and_validate(base_url=server, timeout=30)


@school_a.parametrize()
@SETTINGS
def test_a_school_of_the_token(case: schemathesis.Case, bearer: None, server: str) -> None:
    case.call_and_validate(base_url=server, timeout=30)
