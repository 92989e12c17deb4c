"""The notify handler on the real template in moto: every channel, exactly once, with receipts.

Events go through the notify Lambda handler as SQS records; every one is delivered twice (the
same message again, and a copy with another message id). SMS and email land in moto's SNS and
SES backends, the webhook in a small HTTP server here, the inbox in DynamoDB.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from chalicelib import email, names, notifications, webhooks
from chalicelib.names import Queue
from chalicelib.principal import Principal, Role
from chalicelib.store import caselog, deliveries, inbox, principals
from chalicelib.store.models import ApplicationModel
from tests.functional import test_auth_fixtures
from tests.functional.conftest import REGION
from tests.functional.test_auth_fixtures import as_json, minted
from tests.functional.test_workflow import JOINT, accepted_case, drain, pilot
from tools.lambda_shim import sqs_event

http = test_auth_fixtures.http
PHONE = "13800138000"
ADDRESS = "zhang.san@example.cn"
ORG_ID = "91441200MA4W7XK20U"
PUSHED = ("received", "accepted", "correction_required", "approved")
LIFECYCLE = ("received", "accepted", "in_review", "correction_required", "supplement_received",
             "approved", "licence_issued")


# ---------------------------------------------------------------------------- sinks


def sms_sent() -> list[tuple[str, str]]:
    """(phone, text) of every SMS moto's SNS accepted."""
    return list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values())


def emails_sent() -> list[Any]:
    """Every message moto's SES accepted."""
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


class Receiver(ThreadingHTTPServer):
    """An organization's webhook endpoint: records requests, answers from a script."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.script: list[int] = []  # statuses to answer before answering 200

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()},
                                          body))
                status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/onestop/events"

    def events(self, receipt: str) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests
                if json.loads(body)["receipt"] == receipt]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def notify(settings, monkeypatch) -> Iterator[Any]:
    """Deliver event bodies to the notify handler as Lambda does, each one twice."""
    from app import app

    # moto has no SES in cn-north-1 (nor has AWS: in China the email channel is whatever
    # SES-compatible service the private cloud offers, chalicelib/email.py being the one module
    # to swap); let moto create it there as it would in any region.
    monkeypatch.setenv("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    email.verify_sender(settings)
    monkeypatch.setattr(notifications, "RETRY_DELAYS", (0, 0, 0, 0))
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=settings.queue(Queue.NOTIFY))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    handler = app.handler_map[names.Function.NOTIFY.value]

    def deliver(*bodies: dict[str, Any], twice: bool = True) -> None:
        for body in bodies:
            message = {"MessageId": str(uuid.uuid4()), "ReceiptHandle": "rh",
                       "Body": json.dumps(body, ensure_ascii=False),
                       "Attributes": {"ApproximateReceiveCount": "1"}}
            copies = [message]
            if twice:  # the same message redelivered, and a duplicate with its own id
                copies += [message, {**message, "MessageId": str(uuid.uuid4())}]
            for copy in copies:
                handler(sqs_event([copy], arn, REGION), None)

    def retries() -> int:
        """Deliver the re-queued channel messages (each twice) until none is left."""
        count = 0
        while waiting := drain(settings.queue(Queue.NOTIFY)):
            count += len(waiting)
            deliver(*waiting)
        return count

    deliver.retries = retries  # type: ignore[attr-defined]
    drain(settings.queue(Queue.NOTIFY))
    yield deliver
    drain(settings.queue(Queue.NOTIFY))


def a_case(settings, *, channels: list[str], webhook_url: str | None = None,
           lang: str | None = None) -> ApplicationModel:
    """An accepted case whose application chose ``channels``."""
    receipt = accepted_case(settings, pilot(JOINT), now=datetime.now(UTC))
    contact: dict[str, Any] = {"phone": PHONE, "email": ADDRESS, "channels": channels}
    if webhook_url:
        contact["webhook_url"] = webhook_url
    if lang:
        contact["lang"] = lang
    application = ApplicationModel.get(receipt)
    application.update(actions=[ApplicationModel.contact.set(contact)])
    return ApplicationModel.get(receipt, consistent_read=True)


def event(receipt: str, name: str, key: str = "", **extra: Any) -> dict[str, Any]:
    body = {"event": name, "receipt": receipt, "reason": None,
            "event_id": f"{receipt}:{name}" + (f":{key}" if key else "")}
    body.update(extra)
    return body


def receipts_of(receipt: str) -> list[dict[str, Any]]:
    return [dict(r.data) | {"public": r.public} for r in caselog.records(receipt)
            if r.kind == "NOTIFIED"]


# ---------------------------------------------------------------------------- tests


def test_a_lifecycle_reaches_every_chosen_channel_exactly_once(settings, notify, receiver,
                                                                http) -> None:
    case = a_case(settings, channels=["inbox", "sms", "email", "webhook"],
                  webhook_url=receiver.url)
    receipt = case.receipt
    sms_before, mail_before = len(sms_sent()), len(emails_sent())
    bodies = [event(receipt, "received"), event(receipt, "accepted"),
              event(receipt, "in_review", detail={"due_date": "2026-12-07"}),
              event(receipt, "correction_required", key="t1",
                    detail={"department": "ghj", "missing": ["营业执照副本"], "note": "加盖公章",
                            "deadline": "2026-12-20"}),
              event(receipt, "supplement_received", key="t2"),
              event(receipt, "approved"),
              event(receipt, "licence_issued", detail={"licence_id": f"L{receipt}"})]
    notify(*bodies)

    sms = [text for phone, text in sms_sent()[sms_before:]]
    mails = emails_sent()[mail_before:]
    assert len(sms) == len(mails) == len(PUSHED)
    for text in sms + [m.body for m in mails]:
        assert receipt in text and f"/track/{receipt}" in text
        assert ORG_ID not in text  # never the full identity number
    assert all(phone == "+86" + PHONE for phone, _ in sms_sent()[sms_before:])
    assert "营业执照副本" in sms[2] and "2026-12-20" in sms[2]
    assert f"/licences/L{receipt}" in sms[3]
    assert all(m.destinations["ToAddresses"] == [ADDRESS] for m in mails)
    assert "9144*" in mails[0].body  # the masked number identifies the applicant

    messages, _ = inbox.page(case.applicant_key, limit=50)
    assert [m["event"] for m in messages] == list(reversed(LIFECYCLE))  # newest first
    hooks = receiver.events(receipt)
    assert [h["event"] for h in hooks] == list(LIFECYCLE)
    for headers, body in receiver.requests:
        secret = webhooks.secret_for(settings, case.applicant_key)
        assert webhooks.verify(secret, headers["x-onestop-timestamp"], body,
                               headers["x-onestop-signature"], datetime.now(UTC))
        assert headers["x-onestop-event-id"] == json.loads(body)["event_id"]

    recorded = receipts_of(receipt)
    expected = ({(e, c) for e in LIFECYCLE for c in ("inbox", "webhook")}
                | {(e, c) for e in PUSHED for c in ("sms", "email")})
    assert sorted((r["event"], r["channel"]) for r in recorded) == sorted(expected)
    assert all(r["public"] and r["attempts"] == 1 for r in recorded)
    assert {r["status"] for r in recorded if r["channel"] in ("inbox", "webhook")} == \
        {"delivered"}
    assert {r["status"] for r in recorded if r["channel"] in ("sms", "email")} == {"sent"}
    assert PHONE not in json.dumps(recorded) and ADDRESS not in json.dumps(recorded)
    assert caselog.first_broken_link(caselog.records(receipt)) is None

    # The applicant reads the same inbox through the API, with their own token only.
    mine = minted(settings, Principal(Role.ORGANIZATION, case.applicant_key))
    page = as_json(http.get("/me/inbox?limit=3", headers=mine))
    assert [m["event"] for m in page["items"]] == ["licence_issued", "approved",
                                                   "supplement_received"]
    assert page["items"][1]["links"]["licence"].endswith(f"/licences/L{receipt}")
    rest = as_json(http.get(f"/me/inbox?limit=10&cursor={page['next_cursor']}", headers=mine))
    assert len(rest["items"]) == 4
    stranger = minted(settings, Principal(Role.PERSON, "someone-else"))
    assert as_json(http.get("/me/inbox", headers=stranger))["items"] == []


def test_a_rejection_says_why_in_plain_chinese(settings, notify) -> None:
    case = a_case(settings, channels=["sms"])
    before = len(sms_sent())
    notify(event(case.receipt, "rejected", reason="CERT_EXPIRED"))
    (text,) = [t for _, t in sms_sent()[before:]]
    assert "签名证书已过期" in text and case.receipt in text
    denied = a_case(settings, channels=["sms"])
    denied_before = len(sms_sent())
    notify(event(denied.receipt, "denied",
                 detail={"stage": 0, "department": "ghj", "reason": "不符合规划条件"}))
    (text,) = [t for _, t in sms_sent()[denied_before:]]
    assert "不予许可" in text and "不符合规划条件" in text
    english = a_case(settings, channels=["sms"], lang="en")
    english_before = len(sms_sent())
    notify(event(english.receipt, "accepted"))
    (text,) = [t for _, t in sms_sent()[english_before:]]
    assert text.startswith("[OneStop]") and english.receipt in text


def test_a_failing_webhook_is_retried_alone_and_does_not_hold_back_the_rest(
        settings, notify, receiver) -> None:
    case = a_case(settings, channels=["inbox", "sms", "webhook"], webhook_url=receiver.url)
    receiver.script = [500, 503]  # two failures, then 200
    before = len(sms_sent())
    notify(event(case.receipt, "accepted"), twice=False)
    # Everything but the webhook went out at once.
    assert len(sms_sent()) == before + 1
    assert {r["channel"] for r in receipts_of(case.receipt)} == {"inbox", "sms"}
    claim = deliveries.get(deliveries.delivery_key(f"{case.receipt}:accepted", "webhook"))
    assert claim is not None and claim.state == deliveries.RETRY
    assert notify.retries() == 2  # attempt 2 fails again, attempt 3 succeeds
    hook = [r for r in receipts_of(case.receipt) if r["channel"] == "webhook"]
    assert [(h["status"], h["attempts"]) for h in hook] == [("delivered", 3)]
    assert len(receiver.events(case.receipt)) == 3  # three attempts, one success
    assert len(sms_sent()) == before + 1  # the retries never touched the SMS


def test_a_channel_that_keeps_failing_goes_to_the_dlq_after_its_budget(settings, notify,
                                                                       receiver) -> None:
    case = a_case(settings, channels=["inbox", "webhook"], webhook_url=receiver.url)
    receiver.script = [500] * 10
    dlq = names.dlq_name(settings.queue(Queue.NOTIFY))
    drain(dlq)
    notify(event(case.receipt, "accepted"), twice=False)
    notify.retries()
    assert len(receiver.events(case.receipt)) == notifications.ATTEMPTS
    dead = drain(dlq)
    assert [(d["channel"], d["attempt"]) for d in dead] == [("webhook", notifications.ATTEMPTS)]
    assert dead[0]["event"]["event_id"] == f"{case.receipt}:accepted"
    assert dead[0]["dead_letter_reason"] == "DeliveryFailed"
    outcome = {r["channel"]: r["status"] for r in receipts_of(case.receipt)}
    assert outcome == {"inbox": "delivered", "webhook": "failed"}
    # The next event of the same case is not held back.
    receiver.script = []
    notify(event(case.receipt, "in_review"), twice=False)
    assert [h["event"] for h in receiver.events(case.receipt)][-1] == "in_review"


def test_a_worker_that_died_mid_delivery_is_taken_over_after_its_lease(settings,
                                                                       notify) -> None:
    case = a_case(settings, channels=["inbox", "sms"])
    body = event(case.receipt, "accepted")
    now = datetime.now(UTC)
    # Another worker claimed the SMS and died: its lease has run out.
    key = deliveries.delivery_key(body["event_id"], "sms")
    assert deliveries.acquire(key, 1, now - notifications.LEASE - timedelta(seconds=5),
                              notifications.LEASE).acquired
    before = len(sms_sent())
    notify(body)
    assert len(sms_sent()) == before + 1
    assert deliveries.get(key).state == deliveries.COMPLETED


def test_a_claim_held_by_a_live_worker_is_left_to_it(settings) -> None:
    case = a_case(settings, channels=["inbox", "sms"])
    body = event(case.receipt, "accepted")
    key = deliveries.delivery_key(body["event_id"], "sms")
    deliveries.acquire(key, 1, datetime.now(UTC), notifications.LEASE)
    before = len(sms_sent())
    with pytest.raises(notifications.DeliveryBusy):
        notifications.handle(settings, body, datetime.now(UTC), "m1")
    assert len(sms_sent()) == before
    # The inbox, which nobody held, was delivered meanwhile.
    assert [r["channel"] for r in receipts_of(case.receipt)] == ["inbox"]


def test_officers_hear_of_new_tasks_and_warnings(settings, notify, http) -> None:
    case = a_case(settings, channels=["inbox"])
    principals.enrol("fp:" + "ab" * 32, "officer", department="ghj", display="赵六",
                     email="zhao.liu@ghj.zhaoqing.gov.cn", now=datetime.now(UTC))
    try:
        before = len(emails_sent())
        detail = {"stage": 0, "due_date": "2026-12-07", "working_days_left": 2}
        notify(event(case.receipt, "new_task", key="ghj", department="ghj", detail=detail),
               event(case.receipt, "yellow_warning", key="ghj", department="ghj",
                     detail=detail),
               event(case.receipt, "warning_red", key="ghj", department="ghj",
                     detail={"stage": 0, "due_date": "2026-12-07"}))
        mails = emails_sent()[before:]
        assert [m.destinations["ToAddresses"] for m in mails] == [
            ["zhao.liu@ghj.zhaoqing.gov.cn"]] * 3
        assert f"/departments/ghj/tasks/{case.receipt}/0" in mails[0].body
        assert "黄牌" in mails[1].subject and "红牌" in mails[2].subject
        officer = minted(settings, Principal(Role.OFFICER, "fp:x", "ghj", "赵六"))
        seen = [m["event"] for m in as_json(http.get("/me/inbox", headers=officer))["items"]
                if m["receipt"] == case.receipt]
        assert seen == ["warning_red", "warning_yellow", "new_task"]
        supervisor = minted(settings, Principal(Role.SUPERVISOR, "fp:s"))
        seen = [m["event"] for m in as_json(http.get("/me/inbox", headers=supervisor))["items"]
                if m["receipt"] == case.receipt]
        assert seen == ["warning_red"]
        # Officers' notifications are in the case file, not on the applicant's timeline.
        assert receipts_of(case.receipt) and not any(r["public"]
                                                     for r in receipts_of(case.receipt))
    finally:
        principals.remove("fp:" + "ab" * 32)


def test_unknown_and_malformed_events_go_to_the_dlq_without_retries(settings, notify) -> None:
    dlq = names.dlq_name(settings.queue(Queue.NOTIFY))
    drain(dlq)
    notify({"event": "party", "receipt": "R", "event_id": "R:party"},
           {"receipt": "R"}, {"event": "new_task", "receipt": "R", "event_id": "R:new_task"},
           twice=False)
    reasons = sorted(d["dead_letter_reason"] for d in drain(dlq))
    assert reasons == ["MALFORMED_EVENT", "NO_DEPARTMENT", "UNKNOWN_EVENT"]
