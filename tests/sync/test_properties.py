"""Properties of the sync engine (hypothesis).

Planner (pure, many examples): deciding is idempotent; one side's change is never a conflict;
when both sides changed a field there is exactly one ``both_changed`` finding and the policy's
value is the one kept.

Engine (a real store and the ES2 simulator over loopback, fewer examples): pulling the same data
twice changes nothing; pull → local edits → push → pull is a fixed point; for any interleaving of
local and remote edits each conflict is recorded once and its policy decides the stored value.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.entities import Entity
from fixtures.school import SchoolData
from mapping.model import Mark
from mapping.values import MarkValue
from sync.plan import Decision, Op, Planner, Stored, needs_base
from sync.policy import ConflictPolicy, EntityPolicy
from tests.sync.conftest import pull, push
from tests.sync.helpers import mark, world
from tests.sync.property_helpers import (
    Bench,
    bench,
    edits,
    footprint,
    mark_fields,
    marks_of,
    policies,
    remote_edit,
    sim_marks,
    sim_now,
    store_marks,
    timestamps,
    values,
)
from tests.sync.worlds import SECRETS, World

FIELDS = ("value", "work_type", "weight")
field_policies = st.dictionaries(st.sampled_from(FIELDS), policies, max_size=2)
maybe_time = st.none() | timestamps


# == the planner ===========================================================================
@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Mark, Mark, Mark]:
    """(base, current, incoming): the agreed mark, the store's, the system's — each side edited
    or not, at its own time."""
    base = mark(**draw(mark_fields()), modified=draw(maybe_time))
    local = draw(st.just({}) | edits())
    remote = draw(st.just({}) | edits())
    current = base.model_copy(update={**local, "modified_at": draw(maybe_time)}) if local else base
    incoming = base.model_copy(update={**remote, "modified_at": draw(maybe_time)})
    return base, current, incoming


def stored(current: Mark, agreed: Mark, incoming: Mark) -> Stored:
    """What the store knows, as the pull builds it (the base only when both sides moved)."""
    st_ = Stored(current, 1, agreed.content_hash)
    return Stored(current, 1, agreed.content_hash, agreed) if needs_base(incoming, st_) else st_


def after(decision: Decision, before: Stored, known: dict[str, Mark]) -> Stored:
    """The store state once ``decision`` is applied (record written, agreement recorded)."""
    record = before.record
    if decision.op in (Op.CREATE, Op.UPDATE):
        record = decision.record
    assert isinstance(record, Mark)
    agreed_hash = decision.agreed_hash or before.synced_hash
    assert agreed_hash is not None
    state = Stored(record, before.version + 1, agreed_hash)
    return Stored(record, state.version, agreed_hash, known.get(agreed_hash))


def planner(policy: ConflictPolicy, fields: dict[str, ConflictPolicy]) -> Planner:
    return Planner(EntityPolicy(direction="both", conflict=policy, fields=fields), world())


def both_changed(decision: Decision) -> list[Any]:
    return [f for f in decision.findings if f.kind == "both_changed"]


@settings(max_examples=400, deadline=None)
@given(scenarios(), policies, field_policies)
def test_deciding_again_after_applying_changes_nothing(
    scenario: tuple[Mark, Mark, Mark], policy: ConflictPolicy, fields: dict[str, ConflictPolicy]
) -> None:
    base, current, incoming = scenario
    p = planner(policy, fields)
    before = stored(current, base, incoming)
    first = p.decide(incoming, before)
    known = {r.content_hash: r for r in (base, current, incoming)}
    if first.record is not None:
        known[first.record.content_hash] = first.record  # type: ignore[assignment]
    state = after(first, before, known)
    second = p.decide(incoming, state)
    if first.op is Op.CONFLICT:  # held: nothing applied, the same question stands
        assert state.record == current
        assert second.op is Op.CONFLICT and second.findings == first.findings
        return
    assert second.op is Op.UNCHANGED and not second.applies and second.record is None
    # and once more: the agreement the second decision records does not start a new change
    third = p.decide(incoming, after(second, state, known))
    assert third.op is Op.UNCHANGED


@settings(max_examples=300, deadline=None)
@given(scenarios(), policies, field_policies)
def test_a_change_on_one_side_only_is_never_a_conflict(
    scenario: tuple[Mark, Mark, Mark], policy: ConflictPolicy, fields: dict[str, ConflictPolicy]
) -> None:
    base, current, incoming = scenario
    local = current.content_hash != base.content_hash
    remote = incoming.content_hash != base.content_hash
    if local and remote:
        return  # the next property's case
    d = planner(policy, fields).decide(incoming, stored(current, base, incoming))
    assert not both_changed(d) and d.op is not Op.CONFLICT
    if remote:  # only the system changed: its version is taken, whatever the policy
        assert d.op is Op.UPDATE and d.record is not None
        assert d.record.content() == incoming.content()
        assert d.agreed_hash == incoming.content_hash
    else:  # nothing, or only the local side changed: the store keeps its record
        assert d.op is Op.UNCHANGED and d.record is None and d.findings == ()


def expected_field(
    name: str, base: Mark, current: Mark, incoming: Mark, policy: ConflictPolicy
) -> tuple[str, object]:
    """Which side keeps one field: ("value", v) or ("manual", None)."""
    b, c, i = (getattr(r, name) for r in (base, current, incoming))
    if c == i or i == b:
        return "value", c
    if c == b:
        return "value", i
    if policy == "source-wins":
        return "value", i
    if policy == "local-wins":
        return "value", c
    if policy == "newer-wins" and current.modified_at and incoming.modified_at:
        return "value", i if incoming.modified_at > current.modified_at else c
    return "manual", None


@settings(max_examples=500, deadline=None)
@given(scenarios(), policies, field_policies)
def test_both_changed_is_one_finding_and_the_policy_decides(
    scenario: tuple[Mark, Mark, Mark], policy: ConflictPolicy, fields: dict[str, ConflictPolicy]
) -> None:
    base, current, incoming = scenario
    if base.content_hash in (current.content_hash, incoming.content_hash):
        return  # one side only: the previous property
    if current.content_hash == incoming.content_hash:
        d = planner(policy, fields).decide(incoming, stored(current, base, incoming))
        assert d.op is Op.UNCHANGED and not d.findings  # both made the same edit: no conflict
        return
    p = planner(policy, fields)
    d = p.decide(incoming, stored(current, base, incoming))
    assert len(both_changed(d)) == 1, d.findings
    outcome = {
        n: expected_field(n, base, current, incoming, p.policy.policy_for(n)) for n in FIELDS
    }
    manual = sorted(n for n, (how, _) in outcome.items() if how == "manual")
    if manual:  # held for a person; the store keeps its record
        assert d.op is Op.CONFLICT and d.record is None
        [finding] = d.findings
        assert finding.blocking and finding.field == manual[0]
        assert (d.current, d.incoming) == (current, incoming)
        return
    kept = d.record if d.record is not None else current
    assert {n: getattr(kept, n) for n in FIELDS} == {n: v for n, (_, v) in outcome.items()}
    assert d.op is (Op.UNCHANGED if kept.content_hash == current.content_hash else Op.UPDATE)
    assert not any(f.blocking for f in d.findings)


# == the engine over the ES2 simulator =====================================================
@pytest.fixture(scope="module")
def engine(tiny_school: SchoolData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    with pytest.MonkeyPatch.context() as mp:
        for k, v in SECRETS.items():
            mp.setenv(k, v)
        with bench(tiny_school, Path(tmp_path_factory.mktemp("properties"))) as b:
            yield b


def engine_settings(examples: int) -> settings:
    """Few examples (each is a store and real HTTP round trips), no deadline."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


#: which marks an example touches: a few neighbours, so that edits often meet
picks = st.lists(st.integers(0, 300), min_size=1, max_size=4, unique=True)


#: interleaved pulls read the marks only (the roster is the baseline's; far cheaper per example)
MARKS_ONLY = frozenset({Entity.MARKS})


def changed(report: Any) -> int:
    return sum(report.counts.total(k) for k in ("created", "updated", "deleted"))


def both_changed_rows(w: World) -> list[Any]:
    with w.store.read() as tx:
        return [
            c
            for c in tx.conflicts.find(status=None, entity="marks", limit=100_000)
            if c.kind == "both_changed"
        ]


@pytest.mark.slow
@engine_settings(4)
@given(picks, st.lists(values | st.none(), min_size=4, max_size=4))
def test_pulling_the_same_data_twice_changes_nothing(
    engine: Bench, which: list[int], remote: list[str | None]
) -> None:
    with engine.fresh() as w:
        ext = w.ext_map("es2", Entity.MARKS)
        for i, value in zip(which, remote, strict=False):  # None: deleted in the system
            mid = ext[engine.marks[i]]
            if value is None:
                w.sim.state.delete("marks", int(mid))  # type: ignore[attr-defined]
            else:
                remote_edit(w, mid, value)
        first = pull(w)
        assert first.status == "success", first.error
        assert store_marks(w) == sim_marks(w)
        before, conflicts = footprint(w), len(both_changed_rows(w))
        for full in (False, True):  # the next incremental read, and a full read
            again = pull(w, full=full)
            assert again.status == "success", again.error
            assert changed(again) == 0, again.counts.as_dict()
            assert footprint(w) == before  # no change-log positions, no audit rows
            assert len(both_changed_rows(w)) == conflicts
        assert store_marks(w) == sim_marks(w)


DELETE = "delete"


@pytest.mark.slow
@engine_settings(6)
@given(picks, st.lists(edits() | st.just(DELETE), min_size=4, max_size=4))
def test_pull_edit_push_pull_is_a_fixed_point(
    engine: Bench, which: list[int], local: list[dict[str, Any] | str]
) -> None:
    with engine.fresh() as w:
        assert pull(w, entities=MARKS_ONLY).status == "success"
        marks = w.records(Entity.MARKS)
        journal = w.journal()
        for i, edit in zip(which, local, strict=False):
            rec = marks[engine.marks[i]]
            if edit == DELETE:
                journal.delete(Entity.MARKS, [rec.id], actor="учитель")
            else:
                assert isinstance(edit, dict)
                update = {**edit, "modified_at": sim_now(w)}
                journal.write([rec.model_copy(update=update)], actor="учитель")
        sent = push(w)
        assert sent.status == "success", (sent.error, sent.counts.as_dict())
        before, held = footprint(w), store_marks(w)
        again = pull(w, entities=MARKS_ONLY)
        assert again.status == "success", again.error
        assert changed(again) == 0 and again.counts.total("conflicts") == 0, again.counts.as_dict()
        assert footprint(w) == before and store_marks(w) == held
        assert sim_marks(w) == held  # the system holds exactly the store's marks
        assert not both_changed_rows(w)
        assert changed(push(w)) == 0  # nothing left to send


# -- interleavings ---------------------------------------------------------------------------
Event = tuple[str, int, str]
step = st.tuples(st.sampled_from(["local", "remote"]), st.integers(0, 1), values) | st.just(
    ("pull", 0, "")
)


@st.composite
def interleavings(draw: st.DrawFn) -> list[Event]:
    """Random steps around one local and one remote edit of the same mark that differ (so most
    examples hold a conflict), in either order."""
    k = draw(st.integers(0, 1))
    mine, theirs = draw(st.lists(values, min_size=2, max_size=2, unique=True))
    pair: list[Event] = [("local", k, mine), ("remote", k, theirs)]
    if draw(st.booleans()):
        pair.reverse()
    before, between, after_ = (draw(st.lists(step, max_size=3)) for _ in range(3))
    return [*before, pair[0], *between, pair[1], *after_]


#: edits that meet: local then remote, a pull, a second local edit (a new conflict), a pull
MEETING: list[Event] = [
    ("local", 0, "2"),
    ("remote", 0, "3"),
    ("pull", 0, ""),
    ("local", 0, "4"),
    ("remote", 1, "зач"),
    ("pull", 0, ""),
    ("local", 1, "5"),
]
#: remote after local: newer-wins takes the system's value
REMOTE_LAST: list[Event] = [("local", 0, "4/5"), ("remote", 0, "3"), ("remote", 1, "2")]
#: the system sends the same value again, now later than the local edit: under newer-wins the
#: same conflict now goes the system's way, and stays one row on the queue
SENT_AGAIN: list[Event] = [
    ("remote", 1, "2"),
    ("local", 1, "1"),
    ("pull", 0, ""),
    ("remote", 1, "2"),
]


class Model:
    """What the store, the agreement and the system hold of each touched mark's value."""

    def __init__(self, policy: ConflictPolicy) -> None:
        self.policy = policy
        self.store: dict[str, str] = {}
        self.agreed: dict[str, str] = {}
        self.remote: dict[str, str] = {}
        self.local_at: dict[str, dt.datetime] = {}
        self.remote_at: dict[str, dt.datetime] = {}
        #: (record, incoming value, current value) → status of its conflict-queue row
        self.conflicts: dict[tuple[str, str, str], str] = {}

    def track(self, rid: str, value: str) -> None:
        for side in (self.store, self.agreed, self.remote):
            side.setdefault(rid, value)

    def pull(self) -> None:
        for rid in self.store:
            s, a, r = self.store[rid], self.agreed[rid], self.remote[rid]
            if r == s:
                self.agreed[rid] = r
            elif r == a:
                continue  # the local edit is ahead: it waits in the outbox
            elif s == a:
                self.store[rid] = self.agreed[rid] = r
            else:
                remote_wins = self.policy == "source-wins" or (
                    self.policy == "newer-wins" and self.remote_at[rid] > self.local_at[rid]
                )
                status = "open" if self.policy == "manual" else "noted"
                self.conflicts.setdefault((rid, r, s), status)
                if remote_wins:
                    self.store[rid] = self.agreed[rid] = r


@pytest.mark.slow
@engine_settings(10)
@given(policies, st.integers(0, 290), interleavings())
@example(policy="manual", offset=0, steps=MEETING)
@example(policy="local-wins", offset=0, steps=MEETING)
@example(policy="newer-wins", offset=3, steps=MEETING)
@example(policy="source-wins", offset=3, steps=MEETING)
@example(policy="newer-wins", offset=5, steps=REMOTE_LAST)
@example(policy="newer-wins", offset=0, steps=SENT_AGAIN)
def test_each_conflict_is_recorded_once_and_its_policy_decides(
    engine: Bench, policy: ConflictPolicy, offset: int, steps: list[Event]
) -> None:
    with engine.fresh(policy) as w:
        model = Model(policy)
        touched = [engine.marks[offset + k] for k in range(2)]
        marks = marks_of(w, touched)
        with w.store.read() as tx:
            ext = tx.identity.ext_of("es2", Entity.MARKS, touched)
        journal = w.journal()
        for kind, k, value in steps:
            w.sim.clock.advance(seconds=61)  # type: ignore[attr-defined]
            if kind == "pull":
                assert pull(w, entities=MARKS_ONLY).status == "success"
                model.pull()
                continue
            rid = engine.marks[offset + k]
            model.track(rid, str(marks[rid].value))
            if kind == "local":
                now = sim_now(w)
                current = marks_of(w, [rid])[rid]
                journal.write(
                    [
                        current.model_copy(
                            update={"value": MarkValue.parse(value), "modified_at": now}
                        )
                    ],
                    actor="учитель",
                )
                if value != model.store[rid]:  # the same content again is no edit
                    model.store[rid], model.local_at[rid] = value, now
            else:
                remote_edit(w, ext[rid], value)
                model.remote[rid], model.remote_at[rid] = value, sim_now(w)
        w.sim.clock.advance(seconds=61)  # type: ignore[attr-defined]
        assert pull(w, entities=MARKS_ONLY).status == "success"
        model.pull()
        before = footprint(w)
        again = pull(w, entities=MARKS_ONLY)  # re-reads every edit of this example
        assert again.status == "success" and changed(again) == 0, again.counts.as_dict()
        assert footprint(w) == before

        rows = both_changed_rows(w)
        keys = [
            (c.record_id, (c.incoming or {}).get("value"), (c.current or {}).get("value"))
            for c in rows
        ]
        assert [k for k, n in Counter(keys).items() if n > 1] == []  # each recorded once
        assert {k: c.status for k, c in zip(keys, rows, strict=True)} == model.conflicts
        held = marks_of(w, list(model.store))
        assert {rid: str(held[rid].value) for rid in model.store} == model.store
