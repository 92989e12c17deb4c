"""Statistics kept incrementally equal the figures recomputed from the raw cases.

Cases of 2025 (no other test uses that year) are decided early, on their due day, late, denied,
and after a correction round, through the workflow; the counters are then read through
``GET /stats`` and ``GET /supervision/stats`` and compared with the same figures computed from
a scan of the applications table (a test may scan; the platform never does).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import stats, workflow
from chalicelib.principal import Principal, Role
from chalicelib.routing import Decision
from chalicelib.store import stats as counters
from chalicelib.store.models import ApplicationModel
from chalicelib.workcalendar import CHINA, WorkCalendar, china_date
from tests.functional import test_auth_fixtures
from tests.functional.test_auth_fixtures import minted
from tests.functional.test_supervision import single
from tests.functional.test_workflow import accepted_case, decide, officer, route_messages
from tools.simulate import finish_hook

http = test_auth_fixtures.http
CAL = WorkCalendar.default()
SUPERVISOR = Principal(Role.SUPERVISOR, "fp:supervisor-stats", None, "监察室")
# (department, item code, working days)
ITEMS = (("kjj", "441200-test-stats-a", 5), ("kjj", "441200-test-stats-b", 3),
         ("rsj", "441200-test-stats-c", 10))
# (item index, opened on, decided after so many working days, decision, correction round)
PLAN = ((0, "2025-03-03", 2, "approve", False), (0, "2025-03-03", 5, "approve", False),
        (0, "2025-03-10", 7, "approve", False), (1, "2025-03-12", 1, "deny", False),
        (1, "2025-04-01", 3, "approve", True), (1, "2025-04-28", 2, "approve", False),
        (2, "2025-04-28", 4, "approve", False), (2, "2025-05-06", 12, "deny", False),
        (2, "2025-05-20", 9, "approve", True), (0, "2025-09-29", 3, "approve", False))


def china_morning(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=9, tzinfo=CHINA).astimezone(UTC)


def after_working_days(start: datetime, n: int) -> datetime:
    return china_morning(CAL.add_working_days(china_date(start), n).isoformat()) + \
        timedelta(hours=2)


@pytest.fixture(scope="module")
def year(trusted: Any) -> list[str]:
    """The plan's cases, finished through the workflow; their receipts."""
    from chalicelib import runtime

    settings = runtime.ready()
    receipts = []
    with finish_hook():
        items = [single(code, department, days) for department, code, days in ITEMS]
        for index, opened, after, decision, correction in PLAN:
            item, department = items[index], ITEMS[index][0]
            start = china_morning(opened)
            receipt = accepted_case(settings, item, now=start)
            workflow.open_case(settings, receipt, start)
            if correction:
                task = workflow.find_task(receipt, 0, department)
                asked = after_working_days(start, 1)
                workflow.require_correction(settings, officer(department), task,
                                            [{"name": "营业执照"}], "", asked)
                application = workflow.cases.get(receipt, consistent=True)
                workflow._resume(settings, application, {
                    "at": asked.isoformat(), "payload_key": "-", "signature_key": "-",
                    "payload_sha256": "0" * 64, "attachments": []},
                    asked + timedelta(days=3), claim=f"nonce#stats-test#{receipt}")
            verdict = Decision.APPROVE if decision == "approve" else Decision.DENY
            decide(settings, receipt, 0, department, verdict, after_working_days(start, after))
            receipts.append(receipt)
    route_messages(receipts[0])  # licences are not this module's concern: leave no message
    return receipts


def recomputed(receipts: list[str]) -> dict[str, dict[str, dict[str, int]]]:
    """Per period and scope, the finished-case counters from a scan of the raw cases."""
    found: dict[str, dict[str, list[stats.FinishedCase]]] = defaultdict(lambda: defaultdict(list))
    codes = {code: department for department, code, _ in ITEMS}
    for application in ApplicationModel.scan():
        if application.decided_at is None or application.decided_at.year != 2025:
            continue
        assert application.receipt in receipts
        day = china_date(application.decided_at)
        department = codes[application.service_code]
        case = stats.facts_of(application, CAL, application.decided_at)
        for period in stats.periods(day):
            for scope in stats.scopes(department, application.service_code):
                found[period][scope].append(case)
    return {p: {s: stats.recompute(c) for s, c in scopes.items()} for p, scopes in found.items()}


FINISHED = ("finished", "approved", "denied", "on_time", "early", "overdue", "days_used",
            "corrections")


RATES = ("on_time_rate", "early_rate", "overdue_rate", "avg_working_days", "avg_corrections")


def same(kept: dict[str, Any], raw: dict[str, int]) -> bool:
    """The counters (those shown) and the published rates agree with the raw cases'."""
    expected = stats.figures(raw)
    shown = [k for k in FINISHED if k in kept]
    return ({k: kept[k] for k in shown} == {k: raw[k] for k in shown}
            and all(kept.get(k) == expected[k] for k in RATES if k in kept))


def test_the_plan_covers_every_outcome(year: list[str]) -> None:
    raw = recomputed(year)["y2025"]["all"]
    assert raw["finished"] == len(PLAN)
    assert raw["early"] and raw["overdue"] and raw["denied"] and raw["corrections"] == 2
    assert raw["on_time"] > raw["early"]  # some were decided on their due day


def test_counters_equal_the_raw_cases_in_every_period_and_scope(year: list[str]) -> None:
    raw = recomputed(year)
    for period, scopes in raw.items():
        for scope, expected in scopes.items():
            assert same(counters.scope_total(period, scope), expected), (period, scope)


def test_public_stats_match_the_raw_cases(http: Any, year: list[str]) -> None:
    raw = recomputed(year)
    answer = http.get("/stats?period=2025")
    assert answer.status_code == 200, answer.body
    assert "public" in answer.headers["Cache-Control"]
    body = json.loads(answer.body)
    assert same(body["total"], raw["y2025"]["all"])
    expected = stats.figures(raw["y2025"]["all"])
    assert body["total"]["on_time_rate"] == expected["on_time_rate"]
    assert body["total"]["early_rate"] == expected["early_rate"]
    assert "yellow" not in body["total"]  # supervision internals stay internal
    # (Other tests' warnings of 2025 may add departments without finished cases.)
    shown = {d["department"]: d for d in body["departments"] if d["finished"]}
    assert set(shown) == {"kjj", "rsj"} and shown["kjj"]["name"]
    for department in ("kjj", "rsj"):
        assert same(shown[department], raw["y2025"][f"dept#{department}"])
    month = json.loads(http.get("/stats?period=2025-03").body)
    assert same(month["total"], raw["m2025-03"]["all"])
    assert http.get("/stats?period=2025-13").status_code == 400


def test_supervisors_drill_down(http: Any, settings: Any, year: list[str]) -> None:
    raw = recomputed(year)
    boss = minted(settings, SUPERVISOR)
    answer = http.get("/supervision/stats?period=2025&department=kjj&series=true",
                      headers=boss)
    assert answer.status_code == 200, answer.body
    body = json.loads(answer.body)
    assert same(body["total"], raw["y2025"]["dept#kjj"])
    items = {i["service_code"]: i for i in body["items"]}
    for _, code, _ in ITEMS[:2]:
        assert same(items[code], raw["y2025"][f"item#kjj#{code}"])
    series = {s["period"]: s for s in body["series"]}
    assert len(series) == 12
    for period, month in series.items():
        assert same(month, raw.get(f"m{period}", {}).get("dept#kjj", stats.add())), period
    assert sum(m["finished"] for m in series.values()) == body["total"]["finished"]
    daily = json.loads(http.get(
        f"/supervision/stats?period=2025-05&department=rsj&item={ITEMS[2][1]}&series=1",
        headers=boss).body)
    assert len(daily["series"]) == 31
    assert sum(d["finished"] for d in daily["series"]) == daily["total"]["finished"]
    assert http.get("/supervision/stats?department=nosuch", headers=boss).status_code == 404


def test_recording_is_once_per_receipt(settings: Any) -> None:
    at = datetime(2025, 6, 2, 2, tzinfo=UTC)
    assert stats.record_received("2025TESTONCE", "hyj", "441200-test-once", at)
    assert not stats.record_received("2025TESTONCE", "hyj", "441200-test-once", at)
    assert stats.record_accepted("2025TESTONCE", "hyj", "441200-test-once", at)
    assert counters.scope_total("d2025-06-02", "item#hyj#441200-test-once")["received"] == 1
    assert counters.scope_total("y2025", "dept#hyj")["accepted"] == 1
    # No item is written by everyone: the platform's counter of a day is spread over shards.
    buckets = {i["bucket"] for i in counters.raw("y2025") if i["scope"] == "all"}
    assert len(buckets) > 1
