"""The stage mechanism: examples per model, and properties over random routings and events."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chalicelib.catalog import Routing, RoutingModel, Stage, load_services
from chalicelib.contract import Status
from chalicelib.routing import (
    Approved,
    Decision,
    Denied,
    NextStage,
    Outcome,
    TaskKey,
    Waiting,
    allowed_decisions,
    evaluate,
    merge_decisions,
    open_stage,
    stage_count,
    stage_working_days,
    status_of,
)

A, D, C, OP = Decision.APPROVE, Decision.DENY, Decision.CORRECTION, Decision.OPINION

PARALLEL = Routing(RoutingModel.PARALLEL, (Stage(("gsj", "zjj", "guoshui", "dishui"), 5),))
LEAD = Routing(RoutingModel.LEAD, (Stage(("wsj", "xfzd"), 5),), decider="gsj", decider_days=10)
PROCESS = Routing(
    RoutingModel.PROCESS,
    (Stage(("ghj",), 10), Stage(("gtj",), 10), Stage(("jsj", "xfzd", "hbj"), 10)),
)


# -- examples -------------------------------------------------------------------------------------


def test_open_stage_and_days() -> None:
    assert open_stage(PARALLEL, 0) == ("gsj", "zjj", "guoshui", "dishui")
    assert open_stage(LEAD, 0) == ("wsj", "xfzd")
    assert open_stage(LEAD, 1) == ("gsj",)  # the decider's stage follows the last one
    assert stage_working_days(LEAD, 1) == 10
    assert open_stage(PROCESS, 2) == ("jsj", "xfzd", "hbj")
    assert stage_count(LEAD) == 2 and stage_count(PROCESS) == 3
    for routing, index in ((PARALLEL, 1), (PROCESS, 3), (LEAD, 2), (LEAD, -1)):
        with pytest.raises(IndexError):
            open_stage(routing, index)


def test_parallel_all_must_approve() -> None:
    assert evaluate(PARALLEL, {}) == Waiting(0, ("gsj", "zjj", "guoshui", "dishui"))
    partly = {(0, "gsj"): A, (0, "zjj"): A, (0, "guoshui"): C}
    assert evaluate(PARALLEL, partly) == Waiting(0, ("guoshui", "dishui"), ("guoshui",))
    assert status_of(evaluate(PARALLEL, partly)) is Status.CORRECTION_REQUIRED
    everyone = {(0, d): A for d in open_stage(PARALLEL, 0)}
    assert evaluate(PARALLEL, everyone) == Approved()
    assert evaluate(PARALLEL, {**everyone, (0, "dishui"): D}) == Denied(0, "dishui")


def test_lead_opinions_then_decider() -> None:
    opinions = {(0, "wsj"): OP, (0, "xfzd"): "opinion"}
    assert evaluate(LEAD, opinions) == NextStage(1)
    assert status_of(NextStage(1)) is Status.IN_REVIEW
    assert evaluate(LEAD, {**opinions, (1, "gsj"): C}) == Waiting(1, ("gsj",), ("gsj",))
    assert evaluate(LEAD, {**opinions, (1, "gsj"): A}) == Approved()
    # A supporting department may veto: a denial anywhere ends the case.
    assert evaluate(LEAD, {(0, "wsj"): D}) == Denied(0, "wsj")
    with pytest.raises(ValueError, match="not allowed"):
        evaluate(LEAD, {**opinions, (1, "gsj"): OP})  # the decider decides, it has no opinion


def test_process_stages_in_sequence() -> None:
    assert evaluate(PROCESS, {(0, "ghj"): A}) == NextStage(1)
    assert evaluate(PROCESS, {(0, "ghj"): A, (1, "gtj"): A}) == NextStage(2)
    done = {(0, "ghj"): A, (1, "gtj"): A, (2, "jsj"): A, (2, "xfzd"): A}
    assert evaluate(PROCESS, done) == Waiting(2, ("hbj",))
    assert evaluate(PROCESS, {**done, (2, "hbj"): A}) == Approved()
    with pytest.raises(ValueError, match="not allowed"):
        evaluate(PROCESS, {(0, "ghj"): OP})


def test_decisions_outside_the_routing_are_refused() -> None:
    for key in ((0, "gtj"), (3, "ghj"), (-1, "ghj")):
        with pytest.raises(ValueError):
            evaluate(PROCESS, {key: A})
    with pytest.raises(ValueError):
        evaluate(PROCESS, {(0, "ghj"): "maybe"})


def test_merge_keeps_the_most_final_decision() -> None:
    key = (0, "gsj")
    assert merge_decisions([(key, C), (key, A)]) == {key: A}
    assert merge_decisions([(key, A), (key, C)]) == {key: A}
    assert merge_decisions([(key, D), (key, A), (key, "approve")]) == {key: D}


def test_every_catalog_routing_can_be_driven_to_approval() -> None:
    for item in load_services():
        routing = item.routing
        events: list[tuple[TaskKey, Decision]] = []
        for index in range(stage_count(routing)):
            assert not isinstance(evaluate(routing, merge_decisions(events)), Approved)
            for department in open_stage(routing, index):
                events.append(((index, department), A))
        assert evaluate(routing, merge_decisions(events)) == Approved(), item.code


# -- properties -----------------------------------------------------------------------------------

CODES = ("gsj", "zjj", "guoshui", "dishui", "xfzd", "hbj")
DAYS = st.integers(min_value=1, max_value=20)
STAGE_DEPTS = st.lists(st.sampled_from(CODES), min_size=1, max_size=4, unique=True).map(tuple)


@st.composite
def routings(draw: st.DrawFn) -> Routing:
    model = draw(st.sampled_from(list(RoutingModel)))
    if model is RoutingModel.SINGLE:
        return Routing.single(draw(st.sampled_from(CODES)), draw(DAYS))
    if model is RoutingModel.PARALLEL:
        depts = draw(st.lists(st.sampled_from(CODES), min_size=2, max_size=5, unique=True))
        return Routing(model, (Stage(tuple(depts), draw(DAYS)),))
    if model is RoutingModel.LEAD:
        decider = draw(st.sampled_from(CODES))
        others = [c for c in CODES if c != decider]
        supporting = st.lists(st.sampled_from(others), min_size=1, max_size=3, unique=True)
        stages = draw(st.lists(supporting, min_size=1, max_size=3))
        return Routing(
            model, tuple(Stage(tuple(s), draw(DAYS)) for s in stages), decider, draw(DAYS)
        )
    sequence = draw(st.lists(STAGE_DEPTS, min_size=1, max_size=4))
    assume(len({d for s in sequence for d in s}) >= 2)
    return Routing(model, tuple(Stage(s, draw(DAYS)) for s in sequence))


def task_keys(routing: Routing) -> list[TaskKey]:
    return [(i, d) for i in range(stage_count(routing)) for d in open_stage(routing, i)]


@st.composite
def cases(draw: st.DrawFn, deny_weight: int = 1) -> tuple[Routing, list[tuple[TaskKey, Decision]]]:
    routing = draw(routings())
    keys = task_keys(routing)
    # Approvals dominate so that many cases get far; denials stay rare but present.
    weights = [A] * 6 + [OP] * 3 + [C] * 2 + [D] * deny_weight

    @st.composite
    def event(draw: st.DrawFn) -> tuple[TaskKey, Decision]:
        key = draw(st.sampled_from(keys))
        allowed = allowed_decisions(routing, key[0])
        choice = draw(st.sampled_from([d for d in weights if d in allowed]))
        return key, choice

    events = draw(st.lists(event(), max_size=3 * len(keys) + 2))
    return routing, events


def expected(routing: Routing, final: dict[TaskKey, Decision]) -> type[Any]:
    """An independent oracle of the outcome's kind."""
    keys = task_keys(routing)
    if any(final.get(k) is D for k in keys):
        return Denied
    if all(final.get(k) in (A, OP) for k in keys):
        return Approved
    return Waiting | NextStage  # type: ignore[return-value]


@settings(max_examples=400)
@given(data=st.data(), case=cases())
def test_order_of_events_does_not_matter(data: st.DataObject, case: Any) -> None:
    routing, events = case
    outcome = evaluate(routing, merge_decisions(events))
    shuffled = data.draw(st.permutations(events))
    assert evaluate(routing, merge_decisions(shuffled)) == outcome


@settings(max_examples=400)
@given(data=st.data(), case=cases())
def test_duplicated_events_do_not_matter(data: st.DataObject, case: Any) -> None:
    routing, events = case
    assume(events)
    outcome = evaluate(routing, merge_decisions(events))
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=len(events) * 2))
    redelivered = data.draw(st.permutations(events + repeats))
    assert evaluate(routing, merge_decisions(redelivered)) == outcome


@settings(max_examples=400)
@given(case=cases())
def test_outcome_matches_the_oracle(case: Any) -> None:
    routing, events = case
    final = merge_decisions(events)
    outcome = evaluate(routing, final)
    kind = expected(routing, final)
    assert isinstance(outcome, kind)
    if isinstance(outcome, (Waiting, NextStage)):
        index = outcome.stage_index if isinstance(outcome, Waiting) else outcome.index
        # Every earlier stage is done, and the reported stage really has work left.
        for earlier in range(index):
            assert all(final.get((earlier, d)) in (A, OP) for d in open_stage(routing, earlier))
        current = open_stage(routing, index)
        assert any(final.get((index, d)) not in (A, OP) for d in current)
        if isinstance(outcome, Waiting):
            assert set(outcome.pending_departments) <= set(current)
            assert all(final.get((index, d)) is C for d in outcome.corrections)
        else:
            assert index > 0 and not any((index, d) in final for d in current)


@settings(max_examples=300)
@given(data=st.data(), case=cases(deny_weight=0))
def test_a_denial_anywhere_ends_the_case(data: st.DataObject, case: Any) -> None:
    routing, events = case
    key = data.draw(st.sampled_from(task_keys(routing)))
    position = data.draw(st.integers(min_value=0, max_value=len(events)))
    with_denial = [*events[:position], (key, D), *events[position:]]
    assert evaluate(routing, merge_decisions(with_denial)) == Denied(*key)


@settings(max_examples=300)
@given(case=cases(deny_weight=0))
def test_approval_needs_every_stage_and_the_decider(case: Any) -> None:
    routing, events = case
    final = merge_decisions(events)
    everyone = {
        k: (OP if OP in allowed_decisions(routing, k[0]) else A) for k in task_keys(routing)
    }
    assert evaluate(routing, {**final, **everyone}) == Approved()
    for missing in task_keys(routing):
        partial = {k: v for k, v in everyone.items() if k != missing}
        outcome: Outcome = evaluate(routing, partial)
        assert not isinstance(outcome, Approved)
        assert status_of(outcome) is Status.IN_REVIEW


@given(case=cases())
def test_string_and_enum_decisions_are_the_same(case: Any) -> None:
    routing, events = case
    final = merge_decisions(events)
    as_strings = {k: v.value for k, v in final.items()}
    assert evaluate(routing, as_strings) == evaluate(routing, final)
