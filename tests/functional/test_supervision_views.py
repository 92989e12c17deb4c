"""Findings of finished cases, the supervisor's views, ratings (好差评) and the data tracker."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib import supervision, workflow
from chalicelib.principal import Principal, Role
from chalicelib.routing import Decision
from chalicelib.store import cases, findings, tasks
from chalicelib.store import stats as counters
from chalicelib.supervision_rules import Rule
from tests.functional import test_auth_fixtures
from tests.functional.test_auth_fixtures import minted
from tests.functional.test_supervision import MONDAY_0921, single
from tests.functional.test_workflow import (
    ORG_ID,
    accepted_case,
    applicant_key,
    decide,
    officer,
    route_messages,
)
from tools.simulate import finish_hook

SUPERVISOR = Principal(Role.SUPERVISOR, "fp:supervisor-views", None, "监察室")
APPLICANT = Principal(Role.ORGANIZATION, applicant_key("organization", ORG_ID))
STRANGER = Principal(Role.PERSON, applicant_key("person", "110101199003074514"))
http = test_auth_fixtures.http
DEPARTMENT = "fcj"  # its items are this module's own, so its counters are too


def as_json(answer: Any) -> dict[str, Any]:
    return dict(json.loads(answer.body or b"{}"))


def get(api: Any, path: str, headers: dict[str, str], at: datetime | None = None) -> Any:
    extra = {"X-Onestop-Test-Now": at.isoformat()} if at else {}
    return api.get(path, headers={**headers, **extra})


def post(api: Any, path: str, body: Any, headers: dict[str, str],
         at: datetime | None = None) -> Any:
    extra = {"X-Onestop-Test-Now": at.isoformat()} if at else {}
    return api.post(path, headers={"Content-Type": "application/json", **headers, **extra},
                     body=json.dumps(body, ensure_ascii=False).encode())


@pytest.fixture(scope="module")
def scene(trusted: Any) -> dict[str, Any]:
    """Three cases of one department: a bad denial, an overcharged approval, one still open."""
    from chalicelib import runtime

    settings = runtime.ready()
    item = single("441200-test-views", DEPARTMENT, 4,
                  fee={"amount_yuan": "20.00", "basis": "每件20元"})
    with finish_hook():
        # A: two correction rounds, then a late denial "无" (no reason).
        denied = accepted_case(settings, item, now=MONDAY_0921)
        workflow.open_case(settings, denied, MONDAY_0921)
        for day in (1, 2):
            task = workflow.find_task(denied, 0, DEPARTMENT)
            at = MONDAY_0921 + timedelta(days=day)
            workflow.require_correction(settings, officer(DEPARTMENT), task,
                                        [{"name": f"材料{day}"}], "", at)
            paused = workflow.find_task(denied, 0, DEPARTMENT)
            tasks.resume(paused, due_date=paused.due_date, now=at + timedelta(hours=2))
        late = MONDAY_0921 + timedelta(days=10)
        decide(settings, denied, 0, DEPARTMENT, Decision.DENY, late, reason="无")
        # B: approved early, charging 30 yuan against a 20 yuan standard.
        charged = accepted_case(settings, item, now=MONDAY_0921)
        workflow.open_case(settings, charged, MONDAY_0921)
        decide(settings, charged, 0, DEPARTMENT, Decision.APPROVE,
               MONDAY_0921 + timedelta(hours=3), fee_yuan="30.00")
        # C: still open, overdue by October.
        running = accepted_case(settings, item, now=MONDAY_0921)
        workflow.open_case(settings, running, MONDAY_0921)
    route_messages(charged)  # licences are not this module's concern: leave no message
    return {"settings": settings, "item": item, "denied": denied, "charged": charged,
            "running": running}


def test_finished_cases_are_reviewed_once(scene: dict[str, Any]) -> None:
    rules = {f["rule"] for f in findings.findings_of(scene["denied"])}
    assert rules == {Rule.DENIAL_WITHOUT_REASON.value, Rule.REPEATED_CORRECTION.value,
                     Rule.STAGE_OVERDUE.value}
    [fee] = findings.findings_of(scene["charged"])
    assert fee["rule"] == Rule.FEE_ABOVE_STANDARD.value
    assert fee["evidence"]["charged_yuan"] == "30.00"
    assert fee["evidence"]["standard_yuan"] == "20.00"
    item_scope = f"item#{DEPARTMENT}#{scene['item']['code']}"
    before = counters.scope_total("y2026", item_scope)
    assert (before["finished"], before["denied"], before["approved"], before["findings"]) == (
        2, 1, 1, 4)
    # The workflow may call the hook again (a redelivered message): nothing changes.
    application = cases.get(scene["denied"], consistent=True)
    again = supervision.on_case_finished(scene["settings"], application, scene["item"],
                                         MONDAY_0921 + timedelta(days=11))
    assert again["counted"] is False
    assert counters.scope_total("y2026", item_scope) == before


def test_supervisors_list_and_resolve_findings(http: Any, scene: dict[str, Any]) -> None:
    boss = minted(scene["settings"], SUPERVISOR)
    answer = get(http, f"/supervision/findings?department={DEPARTMENT}", boss)
    assert answer.status_code == 200, answer.body
    listed = {f["id"] for f in as_json(answer)["items"]}
    assert f"{scene['denied']}.DENIAL_WITHOUT_REASON.s00-{DEPARTMENT}" in listed
    assert all(f.get("rule_zh") for f in as_json(answer)["items"])
    everywhere = as_json(get(http, "/supervision/findings?limit=100", boss))["items"]
    assert listed <= {f["id"] for f in everywhere}
    page = as_json(get(http, f"/supervision/findings?department={DEPARTMENT}&limit=2", boss))
    rest = as_json(get(http, f"/supervision/findings?department={DEPARTMENT}&limit=100&cursor="
                             f"{page['next_cursor']}", boss))
    assert {f["id"] for f in page["items"] + rest["items"]} == listed

    target = f"{scene['charged']}.FEE_ABOVE_STANDARD.s00-{DEPARTMENT}"
    done = post(http, f"/supervision/findings/{target}/resolve", {"note": "已责令退还多收费用"},
                boss)
    assert done.status_code == 200, done.body
    assert as_json(done)["state"] == "closed"
    assert post(http, f"/supervision/findings/{target}/resolve", {"note": "again"},
                boss).status_code == 409
    assert post(http, f"/supervision/findings/{target}/resolve", {}, boss).status_code == 400
    assert post(http, "/supervision/findings/nonsense/resolve", {"note": "x"},
                boss).status_code == 404
    still_open = {f["id"] for f in as_json(get(
        http, f"/supervision/findings?department={DEPARTMENT}", boss))["items"]}
    assert target not in still_open
    closed = as_json(get(http, f"/supervision/findings?department={DEPARTMENT}&state=closed",
                         boss))["items"]
    assert [f["resolution"] for f in closed if f["id"] == target] == ["已责令退还多收费用"]


def test_a_departments_overdue_list(http: Any, scene: dict[str, Any]) -> None:
    boss = minted(scene["settings"], SUPERVISOR)
    october = MONDAY_0921 + timedelta(days=9)
    answer = get(http, f"/supervision/departments/{DEPARTMENT}/overdue?limit=100", boss,
                 october)
    assert answer.status_code == 200, answer.body
    late = {i["receipt"]: i for i in as_json(answer)["items"]}
    assert scene["running"] in late and scene["denied"] not in late
    assert late[scene["running"]]["working_days_left"] < 0
    on_time = get(http, f"/supervision/departments/{DEPARTMENT}/overdue", boss,
                  MONDAY_0921 + timedelta(days=1))
    assert scene["running"] not in {i["receipt"] for i in as_json(on_time)["items"]}
    assert get(http, "/supervision/departments/nosuch/overdue", boss).status_code == 404


def test_a_cases_full_history_and_the_applicants_data_tracker(
        http: Any, scene: dict[str, Any]) -> None:
    boss = minted(scene["settings"], SUPERVISOR)
    answer = get(http, f"/supervision/cases/{scene['denied']}", boss)
    assert answer.status_code == 200, answer.body
    history = as_json(answer)
    kinds = [r["kind"] for r in history["log"]]
    assert kinds[0] == "IN_REVIEW" and "DENIED" in kinds
    assert kinds.count("CORRECTION_REQUIRED") == 2
    assert kinds.count(supervision.FINDING_KIND) == 3
    assert history["audit"]["ok"] is True
    assert {f["rule"] for f in history["findings"]} >= {"DENIAL_WITHOUT_REASON"}
    assert [t["decision"] for t in history["tasks"]] == ["deny"]
    assert get(http, "/supervision/cases/20260101NOSUCHCASE", boss).status_code == 404

    mine = minted(scene["settings"], APPLICANT)
    views = get(http, f"/me/applications/{scene['denied']}/views", mine)
    assert views.status_code == 200, views.body
    [seen] = as_json(views)["views"]
    assert seen["role"] == "supervisor" and seen["role_zh"] == "监察人员"
    assert SUPERVISOR.subject not in views.body.decode()  # the role, never the person
    other = get(http, f"/me/applications/{scene['denied']}/views",
                minted(scene["settings"], STRANGER))
    assert other.status_code == 404


def test_rating_once_per_ended_case_and_a_low_one_is_a_finding(
        http: Any, scene: dict[str, Any]) -> None:
    mine = minted(scene["settings"], APPLICANT)
    path = f"/applications/{scene['charged']}/rating"
    assert post(http, path, {"score": 6}, mine).status_code == 400
    assert post(http, path, {"score": True}, mine).status_code == 400
    assert post(http, path, {"score": 1}, minted(scene["settings"], STRANGER)).status_code == 404
    assert post(http, path, {"score": 1}, {}).status_code == 401
    answer = post(http, path, {"score": 1, "comment": "多收了十元"}, mine)
    assert answer.status_code == 201, answer.body
    assert as_json(answer)["finding"] == f"{scene['charged']}.LOW_RATING.case"
    again = post(http, path, {"score": 5}, mine)
    assert again.status_code == 409 and as_json(again)["error"]["code"] == "ALREADY_RATED"
    running = post(http, f"/applications/{scene['running']}/rating", {"score": 5}, mine)
    assert running.status_code == 409 and as_json(running)["error"]["code"] == "NOT_RATEABLE"
    assert findings.rating_of(scene["charged"])["score"] == 1
    rules = {f["rule"] for f in findings.findings_of(scene["charged"])}
    assert Rule.LOW_RATING.value in rules
    total = counters.scope_total("y2026", f"item#{DEPARTMENT}#{scene['item']['code']}")
    assert (total["rated"], total["rating_sum"], total["rating_low"]) == (1, 1, 1)


@pytest.mark.parametrize("path", ["/supervision/stats", "/supervision/findings",
                                  f"/supervision/departments/{DEPARTMENT}/overdue",
                                  f"/supervision/departments/{DEPARTMENT}/warnings",
                                  "/supervision/cases/20260101NOSUCHCASE"])
def test_only_supervisors_see_supervision(http: Any, settings: Any, path: str) -> None:
    assert http.get(path).status_code == 401
    for role in (Principal(Role.OFFICER, "fp:o", DEPARTMENT), Principal(Role.ADMIN, "fp:a"),
                 APPLICANT):
        assert http.get(path, headers=minted(settings, role)).status_code == 403
