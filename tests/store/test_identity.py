"""The identity map and the review queue of uncertain matches."""

from __future__ import annotations

import pytest

from core.entities import Entity
from core.errors import StoreError
from store import Store
from tests.store.conftest import SCHOOL, pupil


def test_link_and_look_up(store: Store) -> None:
    with store.begin() as tx:
        tx.identity.link("sch1", "es2", Entity.PUPILS, "55001", "pupil-1")
        tx.identity.link("sch1", "o7", Entity.PUPILS, "8f2a-guid", "pupil-1")
        tx.identity.link_many(
            "sch1", "es2", Entity.PUPILS, {"55002": "pupil-2", "55001": "pupil-1"}
        )  # known: kept
    with store.read() as tx:
        assert tx.identity.lookup("sch1", "es2", Entity.PUPILS, ["55001", "55002", "nope"]) == {
            "55001": "pupil-1",
            "55002": "pupil-2",
        }
        # the same external id in another entity or system is another record
        assert tx.identity.lookup("sch1", "es2", Entity.TEACHERS, ["55001"]) == {}
        assert tx.identity.lookup("sch1", "asiou", Entity.PUPILS, ["55001"]) == {}
        assert tx.identity.ext_ids_of("pupil-1") == {"es2": "55001", "o7": "8f2a-guid"}


def test_an_external_id_is_never_relinked_silently(store: Store) -> None:
    with store.begin() as tx:
        tx.identity.link("sch1", "es2", Entity.PUPILS, "55001", "pupil-1")
    with pytest.raises(StoreError, match="already linked to pupil-1"), store.begin() as tx:
        tx.identity.link("sch1", "es2", Entity.PUPILS, "55001", "pupil-9")
    with store.read() as tx:
        assert tx.identity.lookup("sch1", "es2", Entity.PUPILS, ["55001"]) == {"55001": "pupil-1"}


def test_review_queue_link_and_reject(store: Store) -> None:
    with store.begin() as tx:
        tx.records.upsert(Entity.PUPILS, [pupil(1), pupil(2), pupil(3)], source="es2")
        a = tx.reviews.add("sch1", "o7", Entity.PUPILS, "g-1", ["pupil-1", "pupil-2"], "same name")
        b = tx.reviews.add("sch1", "o7", Entity.PUPILS, "g-2", ["pupil-3"], "birth date differs")
    with store.begin() as tx:
        assert [i.id for i in tx.reviews.find("sch1")] == [a, b]
        tx.reviews.decide(a, linked_id="pupil-2", by="admin")
        tx.reviews.decide(b, linked_id=None, by="admin")
        with pytest.raises(StoreError, match="already linked"):
            tx.reviews.decide(a, linked_id="pupil-1", by="admin")
    with store.read() as tx:
        assert tx.reviews.find("sch1") == []
        decided = {i.id: i for i in tx.reviews.find("sch1", status=None)}
        assert (decided[a].status, decided[a].linked_id, decided[a].decided_by) == (
            "linked",
            "pupil-2",
            "admin",
        )
        assert decided[a].candidate_ids == ["pupil-1", "pupil-2"]
        assert decided[b].status == "rejected"
        assert tx.identity.lookup("sch1", "o7", Entity.PUPILS, ["g-1", "g-2"]) == {"g-1": "pupil-2"}


def test_links_belong_to_a_school(store: Store) -> None:
    """Two schools, each with its own installation of ES2, numbering pupils alike: the same
    external id is two people, one per school, and neither school's lookup sees the other's."""
    with store.begin() as tx:
        tx.identity.link(SCHOOL, "es2", Entity.PUPILS, "55001", "pupil-1")
        tx.identity.link("sch2", "es2", Entity.PUPILS, "55001", "pupil-b1")
        tx.identity.link_agreed("sch2", "es2", Entity.PUPILS, [("55002", "pupil-b2", None)])
    with store.read() as tx:
        assert tx.identity.lookup(SCHOOL, "es2", Entity.PUPILS, ["55001", "55002"]) == {
            "55001": "pupil-1"
        }
        assert tx.identity.lookup("sch2", "es2", Entity.PUPILS, ["55001", "55002"]) == {
            "55001": "pupil-b1",
            "55002": "pupil-b2",
        }
        assert tx.identity.links_of(SCHOOL, "es2", Entity.PUPILS) == {"55001": "pupil-1"}
        assert tx.identity.linked_gids("sch2", "es2", Entity.PUPILS) == {"pupil-b1", "pupil-b2"}
        assert tx.identity.linked_gids("sch3", "es2", Entity.PUPILS) == set()


def test_a_review_links_only_a_person_of_its_school(store: Store) -> None:
    other = pupil(4).model_copy(update={"school_id": "sch2"})
    with store.begin() as tx:
        tx.records.upsert(Entity.PUPILS, [pupil(1), other], source="es2")
        item = tx.reviews.add(SCHOOL, "o7", Entity.PUPILS, "g-1", ["pupil-1"], "same name")
    refused = "pupil-4 is not a record of school sch1"
    with pytest.raises(StoreError, match=refused), store.begin() as tx:
        tx.reviews.decide(item, linked_id=other.id, by="admin")
    with store.read() as tx:
        assert tx.identity.lookup(SCHOOL, "o7", Entity.PUPILS, ["g-1"]) == {}
        assert tx.reviews.status(SCHOOL, "o7", Entity.PUPILS, "g-1") == "open"
        assert tx.reviews.status("sch2", "o7", Entity.PUPILS, "g-1") is None
