"""``GET /track/{receipt}``: the contract's view, one 404 for any miss, rate limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from chalicelib import tracking
from chalicelib.store import caselog
from tests.functional import test_auth_fixtures
from tests.functional.test_auth_fixtures import as_json
from tests.functional.test_workflow import JOINT, accepted_case, pilot

http = test_auth_fixtures.http


def _opened(settings) -> tuple[str, str]:
    from chalicelib import workflow

    code = "TRK" + datetime.now(UTC).strftime("%H%M%S")
    receipt = accepted_case(settings, pilot(JOINT), tracking_code=code, now=datetime.now(UTC))
    workflow.open_case(settings, receipt, datetime.now(UTC))
    return receipt, code


def test_tracking_shows_status_timeline_and_open_tasks_without_personal_data(http,
                                                                              settings) -> None:
    receipt, code = _opened(settings)
    answer = http.get(f"/track/{receipt}?code={code}")
    assert answer.status_code == 200, answer.body
    view = as_json(answer)
    assert view["status"] == "IN_REVIEW" and view["receipt"] == receipt
    assert [e["event"] for e in view["timeline"]][:1] == ["IN_REVIEW"]
    tasks = view["tasks"]
    assert {t["department"] for t in tasks} == {"ghj", "xfzd", "hbj"}
    for task in tasks:
        assert task["department_name"] and task["due_date"] and task["state"] == "open"
        assert isinstance(task["working_days_left"], int) and task["working_days_left"] > 0
    text = json.dumps(view, ensure_ascii=False)
    assert "9144" not in text and "applicant" not in text  # no identity number, no key
    assert answer.headers["Cache-Control"] == "no-store"


def test_wrong_code_and_unknown_receipt_answer_the_same_404(http, settings) -> None:
    receipt, _ = _opened(settings)
    wrong = http.get(f"/track/{receipt}?code=WRONG123")
    unknown = http.get("/track/20260101NOSUCHCAS?code=WRONG123")
    missing = http.get(f"/track/{receipt}")
    assert wrong.status_code == unknown.status_code == missing.status_code == 404
    assert as_json(wrong) == as_json(unknown) == as_json(missing)


def test_guessing_codes_is_rate_limited_per_receipt_and_per_address(http, settings,
                                                                    monkeypatch) -> None:
    receipt, code = _opened(settings)
    monkeypatch.setattr(tracking, "FAILURES_PER_RECEIPT", (3, timedelta(minutes=15)))
    for _ in range(3):
        assert http.get(f"/track/{receipt}?code=GUESS000").status_code == 404
    limited = http.get(f"/track/{receipt}?code=GUESS000")
    assert limited.status_code == 429
    assert as_json(limited)["error"]["code"] == "RATE_LIMITED"
    assert as_json(limited)["error"]["retry_after_seconds"] > 0
    # Even the right code: a guesser must not learn that a guess hit.
    assert http.get(f"/track/{receipt}?code={code}").status_code == 429
    # Other receipts are not affected.
    other, other_code = _opened(settings)
    assert http.get(f"/track/{other}?code={other_code}").status_code == 200

    monkeypatch.setattr(tracking, "LOCAL_PER_SOURCE", (0, timedelta(minutes=1)))
    assert http.get(f"/track/{other}?code={other_code}").status_code == 429


def test_delivery_receipts_appear_on_the_public_timeline(http, settings) -> None:
    receipt, code = _opened(settings)
    now = datetime.now(UTC)
    caselog.append(receipt, "NOTIFIED", actor="notify", at=now, public=True,
                   data={"event": "in_review", "event_id": f"{receipt}:in_review",
                         "channel": "sms", "status": "sent", "attempts": 1,
                         "to": "138****8000", "provider_id": "abc"})
    timeline = as_json(http.get(f"/track/{receipt}?code={code}"))["timeline"]
    notified = [e for e in timeline if e["event"] == "NOTIFIED"]
    assert notified == [{"seq": notified[0]["seq"], "at": now.isoformat(), "event": "NOTIFIED",
                         "about": "in_review", "channel": "sms", "status": "sent",
                         "attempts": 1}]
    assert "138" not in json.dumps(timeline)
