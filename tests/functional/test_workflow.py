"""The route step and stage advancement on the real template in moto.

Cases are created ACCEPTED (what verification leaves behind), then opened by the route step,
decided by officers through the data layer, and settled. Helpers here are shared with the other
workflow and department tests.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib import keys, licence, names, storage, tokens, workflow
from chalicelib.catalog import service_by_code
from chalicelib.contract import Status
from chalicelib.names import Bucket, Queue
from chalicelib.principal import Principal, Role
from chalicelib.routing import Decision
from chalicelib.store import caselog, cases, catalog, tasks
from chalicelib.store.models import ApplicationModel
from tests.functional.conftest import REGION

JOINT = "441200-jsj-0005"  # 建设工程竣工联合验收: [ghj, xfzd, hbj] 10 days, then [jsj] 5 days
MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in China


# ---------------------------------------------------------------------------- helpers


def pilot(code: str) -> dict[str, Any]:
    """A pilot catalog item as its document."""
    item = service_by_code(code)
    assert item is not None, code
    return item.to_dict()


def variant(code: str, routing: dict[str, Any], *, base: str = JOINT,
            promised_days: int | None = None) -> dict[str, Any]:
    """A test item: a pilot item with another code and routing."""
    doc = copy.deepcopy(pilot(base))
    doc["code"] = code
    doc["routing"] = routing
    days = sum(s["working_days"] for s in routing["stages"]) + routing.get("decider_days", 0)
    doc["promised_days"] = promised_days or days
    doc["legal_days"] = max(doc["legal_days"], doc["promised_days"])
    departments = [d for s in routing["stages"] for d in s["departments"]]
    doc["department"] = routing.get("decider") or departments[0]
    return doc


_published: set[tuple[str, int]] = set()


def publish(*documents: dict[str, Any]) -> None:
    """Put items in the catalog table (once per item and version in the test session)."""
    new = [d for d in documents if (d["code"], int(d.get("version", 1))) not in _published]
    if new:
        catalog.publish(new)
        _published.update((d["code"], int(d.get("version", 1))) for d in new)


def applicant_key(kind: str, ident: str) -> str:
    """What intake stores for an applicant (HMAC with the test pepper)."""
    return hmac.new(b"test-pepper", f"{kind}:{ident}".encode(), hashlib.sha256).hexdigest()


ORG_ID = "91441200MA4W7XK20U"


def accepted_case(settings: Any, item: dict[str, Any], *, now: datetime = MONDAY,
                  tracking_code: str = "TRACK123", attachments: list[dict[str, Any]] | None = None,
                  applicant: dict[str, str] | None = None) -> str:
    """A case as verification leaves it: payload stored, status ACCEPTED."""
    publish(item)
    receipt = now.strftime("%Y%m%d") + secrets.token_hex(5).upper()
    who = applicant or {"kind": "organization", "id": ORG_ID, "name": "肇庆市星湖建设有限公司"}
    payload = {"service_code": item["code"], "applicant": who, "form": {"project_name": "测试"},
               "attachments": attachments or [], "signed_at": now.isoformat(),
               "nonce": secrets.token_hex(8)}
    uploads = settings.bucket(Bucket.UPLOADS)
    storage.put(uploads, f"applications/{receipt}/payload.json",
                json.dumps(payload, ensure_ascii=False).encode())
    ApplicationModel(
        receipt, status=Status.ACCEPTED.value, service_code=item["code"],
        service_version=int(item.get("version", 1)),
        applicant_key=applicant_key(who["kind"], who["id"]), applicant_kind=who["kind"],
        applicant_masked=who["id"][:4] + "**********" + who["id"][-4:],
        tracking_hash=hashlib.sha256(tracking_code.encode()).hexdigest(), nonce=payload["nonce"],
        received_at=now, updated_at=now, payload_key=f"applications/{receipt}/payload.json",
        signature_key=f"applications/{receipt}/signature.p7s", payload_sha256="0" * 64,
        attachments=attachments or []).save()
    return receipt


def officer(department: str, name: str = "张科长") -> Principal:
    """An enrolled officer of ``department``."""
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return Principal(Role.OFFICER, f"cert-{department}-{digest}", department, name)


def bearer(settings: Any, principal: Principal) -> dict[str, str]:
    """An Authorization header for ``principal``, signed by the stage's KMS key (the real path)."""
    token = tokens.issue(principal, kid=settings.key_alias,
                         sign_der=lambda m: keys.sign(settings.key_alias, m),
                         now=datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


def drain(queue: str, receipt: str | None = None) -> list[dict[str, Any]]:
    """Every message waiting on ``queue`` (deleted); only ``receipt``'s when given.

    Other modules' cases share the session's queues, so a test counts only its own.
    """
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                    VisibilityTimeout=30).get("Messages", [])
        if not batch:
            return [m for m in found if receipt is None or m.get("receipt") == receipt]
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def dept_queue(department: str) -> str:
    return names.department_queue_name("local", department)


def route_messages(receipt: str) -> list[dict[str, Any]]:
    """Route-queue messages of one case (others' are put back by deleting only ours)."""
    return [m for m in drain(names.queue_name("local", Queue.ROUTE)) if m["receipt"] == receipt]


def decide(settings: Any, receipt: str, stage: int, department: str, decision: Decision,
           now: datetime, **detail: Any) -> workflow.Settled:
    task = workflow.find_task(receipt, stage, department)
    if decision is Decision.DENY:
        detail.setdefault("reason", "不符合规划条件")
    return workflow.decide(settings, officer(department), task, decision, detail, now)


@contextmanager
def serialised_dynamodb() -> Iterator[None]:
    """DynamoDB applies each request to an item atomically; moto in threads does not.

    One lock around moto's request handling gives its conditional writes the atomicity the real
    service has, so concurrency tests exercise our design rather than moto's thread-safety.
    """
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    lock = threading.Lock()

    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoHandler.call_action = original  # type: ignore[method-assign]


def honour_kms_digest() -> None:
    """Make moto's KMS ``Sign`` honour ``MessageType=DIGEST`` as AWS does (idempotent).

    moto 5.2 ignores the message type and hashes the digest again, so a signature made through
    ``keys.sign`` would not verify against the public key. The same patch belongs in
    ``tools/moto_patches.py`` for the local stack.
    """
    import base64 as b64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    from moto.kms.responses import KmsResponse

    if getattr(KmsResponse.sign, "honours_digest", False):
        return
    original = KmsResponse.sign

    def sign(self: Any) -> str:
        if self._get_param("MessageType") != "DIGEST":
            return original(self)
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
        private = getattr(key.private_key, "private_key", None)
        if not isinstance(private, ec.EllipticCurvePrivateKey):
            return original(self)
        message = self._get_param("Message")
        digest = message.encode("latin-1") if isinstance(message, str) else message
        signature = private.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return json.dumps({"KeyId": key.arn, "SigningAlgorithm": "ECDSA_SHA_256",
                           "Signature": b64.b64encode(signature).decode()})

    sign.honours_digest = True  # type: ignore[attr-defined]
    KmsResponse.sign = sign  # type: ignore[method-assign]


def clean_queues(*departments: str) -> None:
    """Leave no message behind for the next test module (they share one moto)."""
    for department in departments:
        drain(dept_queue(department))
    for queue in Queue:
        drain(names.queue_name("local", queue))


@pytest.fixture(autouse=True)
def _clean_queues(settings: Any) -> Iterator[None]:
    honour_kms_digest()
    yield
    clean_queues("ghj", "xfzd", "hbj", "jsj", "gtj", "fgj", "gsj", "wsj")


# ---------------------------------------------------------------------------- tests


def test_open_creates_a_task_per_first_stage_department_and_one_message_each(settings) -> None:
    item = pilot(JOINT)
    receipt = accepted_case(settings, item)
    assert workflow.open_case(settings, receipt, MONDAY)

    application = cases.get(receipt, consistent=True)
    assert application.status == Status.IN_REVIEW.value
    assert application.current_stage == 0
    assert application.due_date == workflow.due_date(MONDAY, 15).isoformat()
    found = tasks.for_case(receipt)
    assert [(t.stage, t.department, t.state) for t in found] == [
        (0, "ghj", "open"), (0, "hbj", "open"), (0, "xfzd", "open")]
    due = workflow.due_date(MONDAY, 10).isoformat()
    assert {t.due_date for t in found} == {due}
    assert all(t.dispatched_at is not None and t.open_shard for t in found)
    for department in ("ghj", "xfzd", "hbj"):
        [message] = drain(dept_queue(department), receipt)
        assert message["kind"] == "task.opened"
        assert message["task_id"] == f"{receipt}/0/{department}"
        assert message["due_date"] == due
        assert message["stage_departments"] == ["ghj", "xfzd", "hbj"]
        assert message["service_code"] == JOINT
        assert message["links"]["task"].endswith(f"/departments/{department}/tasks/{receipt}/0")
        # Department systems fetch details with an officer's token; no personal data rides.
        assert ORG_ID not in json.dumps(message, ensure_ascii=False)
    assert drain(dept_queue("jsj"), receipt) == []
    assert [r.kind for r in caselog.records(receipt)] == [Status.IN_REVIEW.value]


def test_a_redelivered_open_message_creates_no_second_task(settings) -> None:
    receipt = accepted_case(settings, pilot(JOINT))
    message = {"kind": "open", "receipt": receipt}
    workflow.handle(settings, message, MONDAY)
    workflow.handle(settings, message, MONDAY + timedelta(minutes=5))
    assert len(tasks.for_case(receipt)) == 3
    assert sum(len(drain(dept_queue(d), receipt)) for d in ("ghj", "xfzd", "hbj")) == 3
    assert [r.kind for r in caselog.records(receipt)] == [Status.IN_REVIEW.value]


def test_a_crash_before_dispatch_is_repaired_by_the_redelivery(settings, monkeypatch) -> None:
    receipt = accepted_case(settings, pilot(JOINT))
    sent: list[str] = []
    real_send = workflow.queues.send

    def failing_send(name: str, body: dict[str, Any], **kw: Any) -> str:
        if len(sent) == 1:
            raise ConnectionError("network went away")
        sent.append(name)
        return real_send(name, body, **kw)

    monkeypatch.setattr(workflow.queues, "send", failing_send)
    with pytest.raises(ConnectionError):
        workflow.handle(settings, {"kind": "open", "receipt": receipt}, MONDAY)
    monkeypatch.setattr(workflow.queues, "send", real_send)
    workflow.handle(settings, {"kind": "open", "receipt": receipt}, MONDAY)
    delivered = {d: len(drain(dept_queue(d), receipt)) for d in ("ghj", "xfzd", "hbj")}
    assert sum(delivered.values()) == 3 and set(delivered.values()) == {1}
    assert all(t.dispatched_at for t in tasks.for_case(receipt))


def test_two_stages_to_approved_and_a_licence_that_verifies(settings) -> None:
    receipt = accepted_case(settings, pilot(JOINT))
    workflow.open_case(settings, receipt, MONDAY)
    later = MONDAY + timedelta(days=2)
    assert decide(settings, receipt, 0, "ghj", Decision.APPROVE, later).current_stage == 0
    assert decide(settings, receipt, 0, "xfzd", Decision.APPROVE, later).current_stage == 0
    settled = decide(settings, receipt, 0, "hbj", Decision.APPROVE, later)
    assert (settled.status, settled.current_stage) == (Status.IN_REVIEW.value, 1)
    [message] = drain(dept_queue("jsj"), receipt)
    assert message["stage"] == 1 and message["due_date"] == workflow.due_date(later, 5).isoformat()

    settled = decide(settings, receipt, 1, "jsj", Decision.APPROVE, later + timedelta(days=1))
    assert settled.status == Status.APPROVED.value
    [issue] = route_messages(receipt)
    assert issue == {"kind": "issue", "receipt": receipt}
    workflow.handle(settings, issue, later + timedelta(days=1))
    workflow.handle(settings, issue, later + timedelta(days=1))  # redelivered: same licence

    application = cases.get(receipt, consistent=True)
    assert application.licence_id == licence.licence_id(receipt)
    assert application.early_days is not None and application.early_days > 0
    stored = licence.load(settings, application.licence_id)
    der = keys.public_key_der(settings.key_alias)
    assert licence.verify_signature(stored.document_bytes, stored.signature, der)
    document = stored.document
    assert document["holder"]["name"] == "肇庆市星湖建设有限公司"
    assert [a["department"] for a in document["approvals"]] == ["ghj", "hbj", "xfzd", "jsj"]
    pdf = storage.get(settings.bucket(Bucket.LICENCES),
                      licence.object_keys(stored.licence_id)["pdf"])
    assert licence.verify_signature(pdf, stored.pdf_signature, der)
    kinds = [r.kind for r in caselog.records(receipt)]
    assert kinds.count("STAGE_OPENED") == 1 and kinds.count("LICENCE_ISSUED") == 1
    assert kinds[-2:] == [Status.APPROVED.value, "LICENCE_ISSUED"]
    assert caselog.first_broken_link(caselog.records(receipt)) is None


def test_a_denial_ends_the_case_and_cancels_the_other_tasks(settings) -> None:
    receipt = accepted_case(settings, pilot(JOINT))
    workflow.open_case(settings, receipt, MONDAY)
    drain(dept_queue("ghj"))
    decide(settings, receipt, 0, "xfzd", Decision.APPROVE, MONDAY)
    settled = decide(settings, receipt, 0, "hbj", Decision.DENY, MONDAY, reason="环评未通过")
    assert settled.status == Status.DENIED.value
    application = cases.get(receipt, consistent=True)
    assert application.denial == {"stage": 0, "department": "hbj", "reason": "环评未通过"}
    ghj = workflow.find_task(receipt, 0, "ghj")
    assert (ghj.state, ghj.decision, ghj.open_shard) == ("closed", "cancelled", None)
    assert [m["kind"] for m in drain(dept_queue("ghj"), receipt)] == ["task.cancelled"]
    with pytest.raises(tasks.TaskClosed):
        decide(settings, receipt, 0, "ghj", Decision.APPROVE, MONDAY)
    assert route_messages(receipt) == []
    assert not any(t.state != "closed" for t in tasks.for_case(receipt))
    denied = [r for r in caselog.records(receipt) if r.kind == Status.DENIED.value]
    assert len(denied) == 1 and denied[0].data["reason"] == "环评未通过"


def test_lead_model_supporters_give_opinions_then_the_lead_decides(settings) -> None:
    item = pilot("441200-fgj-0001")  # 企业投资项目核准: ghj, gtj, hbj opinions; fgj decides
    receipt = accepted_case(settings, item)
    workflow.open_case(settings, receipt, MONDAY)
    for department in ("ghj", "gtj"):
        decide(settings, receipt, 0, department, Decision.OPINION, MONDAY, opinion="同意")
    settled = decide(settings, receipt, 0, "hbj", Decision.OPINION, MONDAY, opinion="有条件同意")
    assert settled.current_stage == 1
    with pytest.raises(workflow.DecisionNotAllowed):
        decide(settings, receipt, 1, "fgj", Decision.OPINION, MONDAY, opinion="?")
    assert decide(settings, receipt, 1, "fgj", Decision.APPROVE, MONDAY).status == "APPROVED"


def test_deciders_at_the_same_instant_never_lose_the_stage_completion(settings) -> None:
    """Three departments approve at once, many times over: the next stage opens exactly once."""
    item = pilot(JOINT)
    rounds = 8
    receipts: list[str] = []
    with serialised_dynamodb():
        for _ in range(rounds):
            receipt = accepted_case(settings, item)
            receipts.append(receipt)
            workflow.open_case(settings, receipt, MONDAY)
            barrier = threading.Barrier(3)
            errors: list[BaseException] = []

            def approve(department: str, receipt: str = receipt,
                        barrier: threading.Barrier = barrier,
                        errors: list[BaseException] = errors) -> None:
                task = workflow.find_task(receipt, 0, department)
                barrier.wait()
                try:
                    workflow.decide(settings, officer(department), task, Decision.APPROVE, {},
                                    MONDAY)
                except BaseException as exc:  # reported below, not lost in the thread
                    errors.append(exc)

            threads = [threading.Thread(target=approve, args=(d,))
                       for d in ("ghj", "xfzd", "hbj")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            application = cases.get(receipt, consistent=True)
            assert (application.status, application.current_stage) == ("IN_REVIEW", 1)
            assert [t.task_key for t in tasks.for_case(receipt)].count("01#jsj") == 1
            assert [r.kind for r in caselog.records(receipt)].count("STAGE_OPENED") == 1
    # Delivery is at least once (two relays may both send an entry); departments dedupe on
    # event_id, and every receipt's next-stage task arrived under one event_id.
    sent = [m for m in drain(dept_queue("jsj")) if m["receipt"] in receipts]
    assert sorted({m["receipt"] for m in sent}) == sorted(receipts)
    assert len({m["event_id"] for m in sent}) == len(receipts)


def test_the_last_approvals_at_the_same_instant_approve_once(settings) -> None:
    item = variant("441200-test-par3", {"model": "parallel", "stages": [
        {"departments": ["gsj", "wsj", "hbj"], "working_days": 5}],
        "decider": None, "decider_days": 0})
    with serialised_dynamodb():
        receipt = accepted_case(settings, item)
        workflow.open_case(settings, receipt, MONDAY)
        barrier = threading.Barrier(3)

        def approve(department: str) -> None:
            task = workflow.find_task(receipt, 0, department)
            barrier.wait()
            workflow.decide(settings, officer(department), task, Decision.APPROVE, {}, MONDAY)

        threads = [threading.Thread(target=approve, args=(d,)) for d in ("gsj", "wsj", "hbj")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert cases.get(receipt, consistent=True).status == "APPROVED"
    # Three relays may each deliver the outbox (at least once); issuing is idempotent.
    messages = route_messages(receipt)
    assert messages and all(m == {"kind": "issue", "receipt": receipt} for m in messages)
    assert [r.kind for r in caselog.records(receipt)].count("APPROVED") == 1


def test_settle_is_a_harmless_backstop(settings) -> None:
    receipt = accepted_case(settings, pilot(JOINT))
    workflow.open_case(settings, receipt, MONDAY)
    for department in ("ghj", "xfzd", "hbj"):
        decide(settings, receipt, 0, department, Decision.APPROVE, MONDAY)
    before = [r.kind for r in caselog.records(receipt)]
    for _ in range(2):
        workflow.handle(settings, {"kind": "settle", "receipt": receipt}, MONDAY)
    assert [r.kind for r in caselog.records(receipt)] == before
    assert cases.get(receipt, consistent=True).current_stage == 1


def test_an_unknown_service_is_not_silently_opened(settings) -> None:
    item = variant("441200-test-gone", pilot(JOINT)["routing"])
    receipt = accepted_case(settings, item)
    ApplicationModel(receipt).update(actions=[ApplicationModel.service_version.set(99)])
    with pytest.raises(workflow.UnroutableCase):
        workflow.handle(settings, {"kind": "open", "receipt": receipt}, MONDAY)
    assert cases.get(receipt, consistent=True).status == Status.ACCEPTED.value


def test_supervision_finds_running_clocks_by_due_date_only(settings) -> None:
    receipt = accepted_case(settings, pilot(JOINT))
    workflow.open_case(settings, receipt, MONDAY)
    due = workflow.find_task(receipt, 0, "ghj").due_date
    shard = tasks.shard(receipt)
    found = {t.task_key for t in tasks.open_due_by(shard, due) if t.receipt == receipt}
    assert found == {"00#ghj", "00#hbj", "00#xfzd"}
    day_before = (date.fromisoformat(due) - timedelta(days=1)).isoformat()
    assert not [t for t in tasks.open_due_by(shard, day_before) if t.receipt == receipt]
    decide(settings, receipt, 0, "ghj", Decision.APPROVE, MONDAY)
    found = {t.task_key for t in tasks.open_due_by(shard, due) if t.receipt == receipt}
    assert found == {"00#hbj", "00#xfzd"}
