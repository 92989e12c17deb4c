"""Every AWS call each Lambda function makes is allowed by that function's policy file.

moto does not enforce IAM. This test runs a lifecycle through the real handlers (the API
through chalice's test client, the queue handlers and the schedules as Lambda invokes them),
records each AWS call at the botocore level with the function that made it
(``tests/functional/iam.py``) and evaluates it against ``policies/local/<function>.json``.
Issue 9: the outbox sweeper sent to the notify queue and its policy did not allow it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib import consumers, names, outbox, runtime
from chalicelib.contract import Status
from chalicelib.names import Function, Queue
from chalicelib.store import cases, steps, tasks
from tests.functional import iam
from tests.functional.applicants import draft, envelope, openssl_cms_sign, upload_materials
from tests.functional.conftest import REGION
from tests.functional.test_workflow import JOINT, accepted_case, bearer, officer, pilot
from tools.lambda_shim import scheduled_event, sqs_event

APPROVE = {"comment": "材料齐全，符合法定条件，准予许可"}


@pytest.fixture
def recorder(api: Any) -> Iterator[iam.Recorder]:
    from app import app

    recorder = iam.install(app)
    # Other modules' messages share the session's queues: set them aside. Not PurgeQueue,
    # which SQS (and moto) allow once a minute per queue, and other tests purge too.
    for queue in Queue:
        discard(names.queue_name("local", queue))
    yield recorder


def _url(queue: str) -> str:
    return boto3.client("sqs", region_name=REGION).get_queue_url(QueueName=queue)["QueueUrl"]


def discard(queue: str) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = _url(queue)
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])


def deliver(function: Function, queue: Queue) -> int:
    """Every message waiting on ``queue`` through ``function``'s handler, as Lambda would."""
    from app import app

    sqs = boto3.client("sqs", region_name=REGION)
    name = names.queue_name("local", queue)
    url = _url(name)
    arn = f"arn:aws-cn:sqs:{REGION}:{names.LOCAL_ACCOUNT_ID}:{name}"
    delivered = 0
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                    AttributeNames=["All"]).get("Messages", [])
        if not batch:
            return delivered
        app.handler_map[function.value](sqs_event(batch, arn, REGION), None)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
        delivered += len(batch)


def pump() -> None:
    while deliver(Function.VERIFY, Queue.VERIFY) + deliver(Function.ROUTE, Queue.ROUTE) \
            + deliver(Function.NOTIFY, Queue.NOTIFY):
        pass


def department_tasks(department: str, receipt: str) -> list[dict[str, Any]]:
    """What the department's own system reads from its queue (not a platform function)."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = _url(names.department_queue_name("local", department))
    found = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return [m for m in found if m.get("receipt") == receipt]
        found += [json.loads(m["Body"]) for m in batch]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])


def scheduled(function: Function, at: datetime) -> Any:
    from app import app

    original = consumers._now
    consumers._now = lambda: at  # type: ignore[assignment]
    try:
        return app.handler_map[function.value](scheduled_event(function.value, REGION, at), None)
    finally:
        consumers._now = original  # type: ignore[assignment]


def submit(api: Any, pki: Any, tmp_path: Path) -> str:
    settings = runtime.ready()
    identity = pki["ec_citizen"]
    d = draft("person", identity)
    upload_materials(settings, d)
    payload = d.payload()
    body = envelope(payload, openssl_cms_sign(identity, payload, tmp_path))
    answer = api.http.post("/applications", body=body,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 202, answer.body[:500]
    return str(json.loads(answer.body)["receipt"])


def test_every_call_of_a_lifecycle_is_allowed_by_its_functions_policy(
        api: Any, pki: Any, recorder: iam.Recorder, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = runtime.ready()
    since = recorder.mark()
    # An online application of one department, submitted and verified.
    receipt = submit(api, pki, tmp_path)
    assert review(api, settings, receipt) == Status.APPROVED.value
    # Two stages (three departments in parallel, then one), from the route step on.
    joint = open_case(settings, pilot(JOINT))
    assert review(api, settings, joint) == Status.APPROVED.value
    # A denial ends the case and cancels the other departments' tasks.
    denied_case = open_case(settings, pilot(JOINT))
    assert review(api, settings, denied_case, deny="hbj") == Status.DENIED.value
    # The applicant reads the case; the public reads the statistics.
    api.http.get(f"/track/{receipt}")
    api.http.get("/stats")

    # A process that died between storing an application and queueing it: the sweeper's work.
    monkeypatch.setattr(outbox, "deliver", lambda settings, receipt: 0)
    stuck = submit(api, pki, tmp_path)
    monkeypatch.undo()
    now = datetime.now(UTC)
    assert scheduled(Function.SWEEP, now + timedelta(minutes=2))["resent"] >= 1
    pump()  # the route worker relays what the sweeper handed it
    assert stuck not in steps.owing(now + timedelta(minutes=2))
    scheduled(Function.SUPERVISE, now + timedelta(days=1))
    pump()

    assert recorder.functions(since) >= {f.value for f in Function}, recorder.functions(since)
    denied = recorder.denied(since)
    assert not denied, "AWS calls the function's policy does not allow:\n" + "\n".join(denied)


def open_case(settings: Any, item: dict[str, Any]) -> str:
    """A case as verification leaves it, and its route message (test_workflow's helper)."""
    # An applicant of its own, so that other tests counting an applicant's inbox see none of it.
    receipt = accepted_case(settings, item, now=datetime.now(UTC), applicant={
        "kind": "organization", "id": "91441200IAMTEST001", "name": "权限测试有限公司"})
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.send_message(QueueUrl=_url(names.queue_name("local", Queue.ROUTE)),
                     MessageBody=json.dumps({"kind": "open", "receipt": receipt}))
    return receipt


def review(api: Any, settings: Any, receipt: str, *, deny: str | None = None) -> str:
    """Officers decide every task their departments are sent, stage after stage, through the
    API; ``deny``'s officer denies. Returns the final status."""
    for _ in range(6):
        pump()
        status = str(cases.get(receipt, consistent=True).status)
        if status not in (Status.RECEIVED.value, Status.ACCEPTED.value,
                          Status.IN_REVIEW.value):
            return status
        for department in sorted(_departments(receipt)):
            for task in department_tasks(department, receipt):
                if task["kind"] not in ("task.opened", "task.resumed"):
                    continue
                verb, body = (("deny", {"reason": "申请材料与现场核查情况不符，不予许可"})
                              if department == deny else ("approve", APPROVE))
                path = f"/departments/{department}/tasks/{receipt}/{task['stage']}/{verb}"
                answer = api.http.post(path, body=json.dumps(body, ensure_ascii=False),
                                       headers={**bearer(settings, officer(department)),
                                                "Content-Type": "application/json"})
                assert answer.status_code in (200, 201, 409), answer.body[:500]
    pump()
    return str(cases.get(receipt, consistent=True).status)


def _departments(receipt: str) -> set[str]:
    return {str(t.department) for t in tasks.for_case(receipt)}
