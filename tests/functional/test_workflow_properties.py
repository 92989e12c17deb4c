"""Property: through the data layer, any order and any duplication of the departments' decisions
ends a case exactly where the pure stage mechanism says it ends."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from chalicelib import workflow
from chalicelib.catalog.model import Routing
from chalicelib.contract import Status
from chalicelib.routing import Approved, Decision, Denied, allowed_decisions, evaluate, open_stage
from chalicelib.routing import stage_count as count_stages
from chalicelib.store import caselog, cases, tasks
from tests.functional.test_workflow import (
    MONDAY,
    accepted_case,
    clean_queues,
    honour_kms_digest,
    officer,
    variant,
)

POOL = ("gsj", "wsj", "hbj", "ghj", "xfzd", "jsj")


@pytest.fixture(autouse=True)
def _clean_queues(settings: Any) -> Iterator[None]:
    yield
    clean_queues(*POOL)


@st.composite
def routings(draw: st.DrawFn) -> dict[str, Any]:
    model = draw(st.sampled_from(["process", "lead", "parallel", "single"]))
    if model == "single":
        return Routing.single(draw(st.sampled_from(POOL)), 3).to_dict()
    if model == "parallel":
        departments = draw(st.lists(st.sampled_from(POOL), min_size=2, max_size=3, unique=True))
        return {"model": "parallel", "decider": None, "decider_days": 0,
                "stages": [{"departments": departments, "working_days": 3}]}
    if model == "lead":
        decider = draw(st.sampled_from(POOL))
        supporters = draw(st.lists(st.sampled_from([d for d in POOL if d != decider]),
                                   min_size=1, max_size=3, unique=True))
        return {"model": "lead", "decider": decider, "decider_days": 2,
                "stages": [{"departments": supporters, "working_days": 3}]}
    stages = draw(st.lists(st.lists(st.sampled_from(POOL), min_size=1, max_size=3, unique=True),
                           min_size=1, max_size=3))
    if len({d for s in stages for d in s}) < 2:
        stages.append([d for d in POOL if d not in stages[0]][:1])
    return {"model": "process", "decider": None, "decider_days": 0,
            "stages": [{"departments": s, "working_days": 2} for s in stages]}


def _apply(settings: Any, receipt: str, events: list[tuple[int, str]],
           chosen: dict[tuple[int, str], Decision]) -> None:
    """Deliver events until none makes progress: a task of a stage not open yet waits."""
    pending = list(events)
    while pending:
        waiting: list[tuple[int, str]] = []
        progressed = False
        for stage, department in pending:
            task = tasks.get(receipt, tasks.task_key(stage, department), consistent=True)
            if task is None:
                waiting.append((stage, department))
                continue
            decision = chosen[(stage, department)]
            detail = {"reason": "不符合条件"} if decision is Decision.DENY else (
                {"opinion": "同意"} if decision is Decision.OPINION else {})
            # A duplicate, or a task the case's end cancelled, answers TaskClosed.
            with contextlib.suppress(tasks.TaskClosed):
                workflow.decide(settings, officer(department), task, decision, detail, MONDAY)
            progressed = True
        if not progressed:
            return
        pending = waiting


@hsettings(max_examples=30, deadline=None, derandomize=True,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_order_and_duplication_of_decisions_gives_the_pure_outcome(settings, data) -> None:
    honour_kms_digest()
    routing_doc = data.draw(routings())
    routing = Routing.from_dict(routing_doc)
    keys = [(i, d) for i in range(count_stages(routing)) for d in open_stage(routing, i)]
    chosen: dict[tuple[int, str], Decision] = {}
    for key in keys:
        options = sorted(allowed_decisions(routing, key[0]) - {Decision.CORRECTION},
                         key=lambda d: d.value)
        # Mostly approvals, so that later stages are reached as often as denials end cases.
        chosen[key] = data.draw(st.sampled_from([Decision.APPROVE] * 3 + options))
    extra = data.draw(st.lists(st.sampled_from(keys), max_size=len(keys) * 2))
    events = data.draw(st.permutations(keys + extra))

    code = "441200-prop-" + hashlib.sha256(json.dumps(routing_doc, sort_keys=True).encode()
                                           ).hexdigest()[:10]
    receipt = accepted_case(settings, variant(code, routing_doc))
    workflow.open_case(settings, receipt, MONDAY)
    _apply(settings, receipt, events, chosen)

    expected = evaluate(routing, chosen)
    application = cases.get(receipt, consistent=True)
    found = tasks.for_case(receipt)
    assert all(t.state == tasks.CLOSED for t in found)
    assert len({t.task_key for t in found}) == len(found)
    finals = [r.kind for r in caselog.records(receipt)
              if r.kind in (Status.APPROVED.value, Status.DENIED.value)]
    if isinstance(expected, Approved):
        assert application.status == Status.APPROVED.value
        assert int(application.current_stage) == count_stages(routing) - 1
        assert {(int(t.stage), t.department) for t in found} == set(keys)
        assert finals == [Status.APPROVED.value]
    else:
        assert isinstance(expected, Denied)
        assert application.status == Status.DENIED.value
        # The stage that denied is the earliest with a denial; no later stage ever opened.
        assert application.denial["stage"] == expected.stage_index
        assert max(int(t.stage) for t in found) == expected.stage_index
        assert chosen[(expected.stage_index, application.denial["department"])] is Decision.DENY
        assert finals == [Status.DENIED.value]
