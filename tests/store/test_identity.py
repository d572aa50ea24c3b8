"""The identity map and the review queue of uncertain matches."""

from __future__ import annotations

import pytest

from core.entities import Entity
from core.errors import StoreError
from store import Store


def test_link_and_look_up(store: Store) -> None:
    with store.begin() as tx:
        tx.identity.link("es2", Entity.PUPILS, "55001", "pupil-1")
        tx.identity.link("o7", Entity.PUPILS, "8f2a-guid", "pupil-1")
        tx.identity.link_many(
            "es2", Entity.PUPILS, {"55002": "pupil-2", "55001": "pupil-1"}
        )  # known: kept
    with store.read() as tx:
        assert tx.identity.lookup("es2", Entity.PUPILS, ["55001", "55002", "nope"]) == {
            "55001": "pupil-1",
            "55002": "pupil-2",
        }
        # the same external id in another entity or system is another record
        assert tx.identity.lookup("es2", Entity.TEACHERS, ["55001"]) == {}
        assert tx.identity.lookup("asiou", Entity.PUPILS, ["55001"]) == {}
        assert tx.identity.ext_ids_of("pupil-1") == {"es2": "55001", "o7": "8f2a-guid"}


def test_an_external_id_is_never_relinked_silently(store: Store) -> None:
    with store.begin() as tx:
        tx.identity.link("es2", Entity.PUPILS, "55001", "pupil-1")
    with pytest.raises(StoreError, match="already linked to pupil-1"), store.begin() as tx:
        tx.identity.link("es2", Entity.PUPILS, "55001", "pupil-9")
    with store.read() as tx:
        assert tx.identity.lookup("es2", Entity.PUPILS, ["55001"]) == {"55001": "pupil-1"}


def test_review_queue_link_and_reject(store: Store) -> None:
    with store.begin() as tx:
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
        assert tx.identity.lookup("o7", Entity.PUPILS, ["g-1", "g-2"]) == {"g-1": "pupil-2"}
