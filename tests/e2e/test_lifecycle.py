"""A case's whole life over HTTP and the queues, on the local stack as `make run` starts it.

The applicant uploads, signs and submits; the verify and route workers pick the case up; the
department systems read their tasks from their own queues; officers (tokens signed by the
stack's KMS key, as the login issues them) decide through the API; the licence comes back signed
and verifies offline with the platform's public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib import names, tokens
from chalicelib.catalog import service_by_code
from chalicelib.principal import Principal, Role
from chalicelib.workcalendar import CHINA, CalendarUnavailable, WorkCalendar
from tools.pki import Pki, build_pki
from tools.signing import sign_detached

pytestmark = pytest.mark.e2e

JOINT = "441200-jsj-0005"  # 建设工程竣工联合验收: [ghj, xfzd, hbj] 10 days, then [jsj] 5 days
TEST_NOW = "X-Onestop-Test-Now"


class World:
    """The stack seen from outside: HTTP, the embedded AWS, the PKI and the officers."""

    def __init__(self, stack: Any, pki: Pki) -> None:
        self.stack = stack
        self.http = stack.http
        self.api = stack.api
        self.pki = pki
        region = stack.state["region"]
        endpoint = stack.state["aws_endpoint_url"]
        session = boto3.session.Session(aws_access_key_id="local",
                                        aws_secret_access_key="local", region_name=region)
        self.sqs = session.client("sqs", endpoint_url=endpoint)
        self.kms = session.client("kms", endpoint_url=endpoint)
        self.s3 = session.client("s3", endpoint_url=endpoint)
        self.alias = names.key_alias("local")
        self.key_id = self.kms.describe_key(KeyId=self.alias)["KeyMetadata"]["KeyId"]
        self.inbox: dict[str, list[dict[str, Any]]] = {}

    # -- platform key and officers

    def sign_digest(self, message: bytes) -> bytes:
        digest = hashlib.sha256(message).digest()
        return bytes(self.kms.sign(KeyId=self.key_id, Message=digest, MessageType="DIGEST",
                                   SigningAlgorithm="ECDSA_SHA_256")["Signature"])

    def public_key(self) -> ec.EllipticCurvePublicKey:
        der = self.kms.get_public_key(KeyId=self.key_id)["PublicKey"]
        key = serialization.load_der_public_key(der)
        assert isinstance(key, ec.EllipticCurvePublicKey)
        return key

    def officer(self, department: str, name: str = "科长") -> dict[str, str]:
        principal = Principal(Role.OFFICER, f"cert-{department}-{name}", department, name)
        token = tokens.issue(principal, kid=self.key_id, sign_der=self.sign_digest,
                             now=datetime.now(UTC))
        return {"Authorization": f"Bearer {token}"}

    # -- the applicant

    def upload(self, name: str, data: bytes) -> dict[str, Any]:
        answer = self.http.post(f"{self.api}/uploads", json={
            "name": name, "content_type": "application/pdf", "size": len(data)}, timeout=30)
        assert answer.status_code == 201, answer.text
        grant = answer.json()
        put = self.http.put(grant["url"], data=data, headers=grant["headers"], timeout=30)
        assert put.status_code == 200, put.text
        return {"upload_id": grant["upload_id"], "name": name,
                "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    def envelope(self, doc: dict[str, Any], who: str = "company") -> dict[str, str]:
        identity = self.pki[who]
        payload = json.dumps(doc, ensure_ascii=False).encode()
        signature = sign_detached(payload, identity.cert_pem(), identity.key_pem(),
                                  identity.chain_pems())
        return {"payload": base64.b64encode(payload).decode(),
                "signature": base64.b64encode(signature).decode()}

    def application(self, code: str, *, signed_at: datetime | None = None,
                    **extra: Any) -> dict[str, Any]:
        item = service_by_code(code)
        assert item is not None
        materials = [self.upload(m.code, f"%PDF-1.4 {m.name}".encode())
                     for m in item.materials if m.required]
        company = self.pki["company"]
        return {"service_code": code,
                "applicant": {"kind": "organization", "id": company.id_number,
                              "name": "肇庆市某某科技有限公司"},
                "form": {"project_name": "星湖花园二期", "location": "肇庆市端州区",
                         "description": "住宅楼三栋及地下车库"},
                "attachments": materials, "signed_at": (signed_at or datetime.now(UTC)
                                                         ).isoformat(),
                "nonce": secrets.token_hex(12), **extra}

    def submit(self, code: str) -> tuple[str, str]:
        answer = self.http.post(f"{self.api}/applications",
                                json=self.envelope(self.application(code)), timeout=30)
        assert answer.status_code == 202, answer.text
        body = answer.json()
        return body["receipt"], body["tracking_code"]

    def track(self, receipt: str, code: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.api}/track/{receipt}", params={"code": code}, timeout=30)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def wait_status(self, receipt: str, code: str, *statuses: str) -> dict[str, Any]:
        return dict(self.stack.wait_for(
            lambda: (view := self.track(receipt, code))["status"] in statuses and view))

    # -- department systems

    def tasks_for(self, department: str, receipt: str, kind: str = "task.opened",
                  timeout: float = 30) -> dict[str, Any]:
        """The department system's long poll: the next message of ``kind`` for ``receipt``."""
        url = self.sqs.get_queue_url(QueueName=names.department_queue_name(
            "local", department))["QueueUrl"]

        def poll() -> dict[str, Any] | None:
            for message in self.inbox.get(department, []):
                if message["receipt"] == receipt and message["kind"] == kind:
                    self.inbox[department].remove(message)
                    return message
            batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                             WaitTimeSeconds=1).get("Messages", [])
            for raw in batch:
                self.inbox.setdefault(department, []).append(json.loads(raw["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=raw["ReceiptHandle"])
            return None

        return dict(self.stack.wait_for(poll, timeout=timeout, interval=0.1))

    def act(self, department: str, receipt: str, stage: int, action: str,
            body: dict[str, Any] | None = None, at: datetime | None = None) -> dict[str, Any]:
        headers = self.officer(department)
        if at is not None:
            headers[TEST_NOW] = at.isoformat()
        answer = self.http.post(
            f"{self.api}/departments/{department}/tasks/{receipt}/{stage}/{action}",
            json=body or {}, headers=headers, timeout=30)
        assert answer.status_code in (200, 201, 202), answer.text
        return dict(answer.json())


@pytest.fixture(scope="module")
def world(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> World:
    demo = stack.state.get("demo", {})
    if demo.get("pki_dir"):
        pki = build_pki(Path(demo["pki_dir"]))  # the stack's demo PKI, already trusted
    else:
        pki = build_pki(Path(tmp_path_factory.mktemp("lifecycle-pki")))
        session = boto3.session.Session(aws_access_key_id="local",
                                        aws_secret_access_key="local",
                                        region_name=stack.state["region"])
        s3 = session.client("s3", endpoint_url=stack.state["aws_endpoint_url"])
        for key, data in pki.trust_objects().items():
            s3.put_object(Bucket=stack.state["outputs"]["TrustBucketName"], Key=key, Body=data)
    found = World(stack, pki)
    probe = b"does the embedded KMS sign digests as AWS does?"
    try:
        found.public_key().verify(found.sign_digest(probe), probe, ec.ECDSA(hashes.SHA256()))
    except Exception:
        pytest.skip("the local stack's KMS ignores MessageType=DIGEST (tools/moto_patches.py)")
    return found


def test_a_two_stage_joint_acceptance_is_approved_with_a_licence_that_verifies(world) -> None:
    receipt, code = world.submit(JOINT)
    world.wait_status(receipt, code, "IN_REVIEW")

    first = {d: world.tasks_for(d, receipt) for d in ("ghj", "xfzd", "hbj")}
    assert {m["stage"] for m in first.values()} == {0}
    assert all(m["stage_departments"] == ["ghj", "xfzd", "hbj"] for m in first.values())
    for department in ("ghj", "xfzd", "hbj"):
        detail = world.http.get(first[department]["links"]["task"],
                                headers=world.officer(department), timeout=30)
        assert detail.status_code == 200 and len(detail.json()["materials"]) == 5
        case = world.act(department, receipt, 0, "approve", {"comment": "同意"})["case"]
    assert case == {"receipt": receipt, "status": "IN_REVIEW", "current_stage": 1}

    second = world.tasks_for("jsj", receipt)
    assert second["stage"] == 1 and second["department"] == "jsj"
    assert world.act("jsj", receipt, 1, "approve")["case"]["status"] == "APPROVED"
    view = world.wait_status(receipt, code, "APPROVED")
    assert "APPROVED" in [event["event"] for event in view["timeline"]]

    licence_id = f"L{receipt}"

    def issued() -> Any:
        answer = world.http.get(f"{world.api}/licences/{licence_id}", params={"code": code},
                                timeout=30)
        return answer.json() if answer.status_code == 200 else None

    bundle = world.stack.wait_for(issued)
    body = base64.b64decode(bundle["document_base64"])
    signature = base64.b64decode(bundle["signature_base64"])
    world.public_key().verify(signature, body, ec.ECDSA(hashes.SHA256()))
    document = json.loads(body)
    assert document["service"]["code"] == JOINT
    assert [a["department"] for a in document["approvals"]] == ["ghj", "hbj", "xfzd", "jsj"]
    # Offline, as the README documents it: the platform's public key and openssl.
    workdir = Path(world.stack.state_dir) / f"licence-{receipt}"
    workdir.mkdir(exist_ok=True)
    (workdir / "licence.json").write_bytes(body)
    (workdir / "licence.sig").write_bytes(signature)
    (workdir / "platform.pem").write_text(bundle["public_key_pem"])
    check = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "platform.pem",
                            "-signature", "licence.sig", "licence.json"], cwd=workdir,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0 and "Verified OK" in check.stdout, check.stderr
    pdf = world.http.get(bundle["pdf_url"], timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    world.public_key().verify(base64.b64decode(bundle["pdf_signature_base64"]), pdf.content,
                              ec.ECDSA(hashes.SHA256()))
    verified = world.http.get(f"{world.api}/licences/{licence_id}/verify", timeout=30).json()
    assert verified["valid"] is True and verified["document_sha256"] == bundle["document_sha256"]


def test_a_denial_in_any_department_ends_the_case_denied(world) -> None:
    receipt, code = world.submit(JOINT)
    world.wait_status(receipt, code, "IN_REVIEW")
    world.tasks_for("xfzd", receipt)
    world.act("ghj", receipt, 0, "approve")
    case = world.act("xfzd", receipt, 0, "deny", {"reason": "消防设施不符合验收标准"})["case"]
    assert case["status"] == "DENIED"
    view = world.track(receipt, code)
    assert view["status"] == "DENIED"
    [denied] = [e for e in view["timeline"] if e["event"] == "DENIED"]
    assert denied["reason"] == "消防设施不符合验收标准"
    assert world.tasks_for("hbj", receipt, kind="task.cancelled")["task_id"] == f"{receipt}/0/hbj"
    late = world.http.post(f"{world.api}/departments/hbj/tasks/{receipt}/0/approve", json={},
                           headers=world.officer("hbj"), timeout=30)
    assert late.status_code == 409


def _next_holiday(calendar: WorkCalendar, after: date) -> date:
    day = after + timedelta(days=1)
    while calendar.holiday_name(day) is None or day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_a_correction_round_stops_and_resumes_the_clock_across_a_holiday(world) -> None:
    """补正 asked, answered just before a public holiday: the clock stops in between, and the
    days left after the answer skip the holiday."""
    calendar = WorkCalendar.default()
    receipt, code = world.submit(JOINT)
    world.wait_status(receipt, code, "IN_REVIEW")
    opened = world.tasks_for("ghj", receipt)
    started = datetime.fromisoformat(opened["opened_at"])
    due_before = date.fromisoformat(opened["due_date"])
    assert due_before == calendar.due_date(started, 10)

    # The officer asks on the 8th working day; the applicant answers on the last working day
    # before the next public holiday, so the three days still owed come after the holiday.
    asked_day = calendar.add_working_days(started.astimezone(CHINA).date(), 8)
    try:
        holiday = _next_holiday(calendar, asked_day + timedelta(days=1))
        answered_day = calendar.add_working_days(holiday, -1)
        calendar.due_date(datetime.combine(answered_day, time(10), CHINA), 5)
    except CalendarUnavailable:
        pytest.skip("no holiday schedule loaded far enough ahead")
    asked = datetime.combine(asked_day, time(10), CHINA)
    answered = datetime.combine(answered_day, time(16), CHINA)
    task = world.act("ghj", receipt, 0, "corrections",
                     {"missing": [{"name": "消防验收意见书"}], "note": "请一次性补齐"},
                     at=asked)["task"]
    assert task["state"] == "correction"
    assert datetime.fromisoformat(task["paused_since"]) == asked
    assert world.track(receipt, code)["status"] == "CORRECTION_REQUIRED"

    doc = world.application(JOINT, signed_at=answered, supplement_to=receipt)
    answer = world.http.post(f"{world.api}/applications/{receipt}/supplements",
                             json=world.envelope(doc), headers={TEST_NOW: answered.isoformat()},
                             timeout=30)
    assert answer.status_code == 202, answer.text
    [resumed] = [t for t in answer.json()["tasks"] if t["department"] == "ghj"]
    due_after = date.fromisoformat(resumed["due_date"])
    # Working days before the request: 7 counted (the 8th is touched by the pause, as is every
    # working day up to the answer's); 3 remain, counted after the answer, past the holiday.
    assert calendar.working_days_between(started.astimezone(CHINA).date(), asked_day) == 8
    expected = calendar.add_working_days(answered_day, 3)
    assert due_after == expected
    assert due_after > holiday and calendar.is_working_day(due_after)
    assert due_after == calendar.due_date(started, 10, paused=[(asked, answered)])
    assert world.tasks_for("ghj", receipt, kind="task.resumed")["due_date"] == resumed["due_date"]
    assert world.track(receipt, code)["status"] == "IN_REVIEW"
