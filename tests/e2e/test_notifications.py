"""Login, a full lifecycle and its notifications, over HTTP on the local stack (`make run`).

A company logs in with its openssl-made certificate (the login nonce signed by the ``openssl
cms`` command line), submits, is asked for a correction, supplements, and is approved. The
officer is enrolled with the operator command and logs in with the officer certificate. The
applicant's inbox and the embedded AWS's SMS and email sinks (moto's ``/moto-api/data.json``)
hold one message per event and channel; then every notification event is delivered again and
nothing more goes out. Refused logins and another applicant's token are tried on the way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib import names, webhooks
from chalicelib.catalog import service_by_code
from tools.pki import Identity, Pki, build_pki
from tools.signing import sign_detached

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ITEM = "441200-fgj-0002"  # 企业投资项目备案: one department (fgj), one stage
DEPARTMENT = "fgj"
PHONE = "13900139000"
ADDRESS = "office@xinghu-build.example.cn"
# moto offers no SES in cn-north-1 (neither does AWS); the stack started by this session
# inherits the test process's environment, so let it create the email backend there.
os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")


class Receiver(ThreadingHTTPServer):
    """The company's own system: receives signed webhooks."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()},
                                          body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/onestop"


class Portal:
    """The stack from outside: HTTP, the embedded AWS and its sinks, the PKI."""

    def __init__(self, stack: Any, pki: Pki, work: Path) -> None:
        self.stack = stack
        self.http = stack.http
        self.api = stack.api
        self.pki = pki
        self.work = work
        self.endpoint = stack.state["aws_endpoint_url"]
        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                        region_name=stack.state["region"])
        self.sqs = session.client("sqs", endpoint_url=self.endpoint)
        self.dynamodb = session.client("dynamodb", endpoint_url=self.endpoint)
        self.ses = session.client("ses", endpoint_url=self.endpoint)

    # -- the sinks of the embedded AWS

    def sinks(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(SMS, emails) the embedded SNS and SES accepted."""
        data = self.http.get(f"{self.endpoint}/moto-api/data.json", timeout=30).json()
        return data.get("sns", {}).get("SMS", []), data.get("ses", {}).get("Message", [])

    # -- login

    def openssl_sign(self, identity: Identity, payload: bytes) -> bytes:
        name = secrets.token_hex(4)
        data, out = self.work / f"{name}.json", self.work / f"{name}.p7s"
        data.write_bytes(payload)
        subprocess.run(["openssl", "cms", "-sign", "-binary", "-in", str(data), "-signer",
                        str(identity.cert), "-inkey", str(identity.key), "-certfile",
                        str(identity.chain), "-outform", "DER", "-out", str(out)],
                       check=True, capture_output=True)
        return out.read_bytes()

    def challenge(self) -> str:
        answer = self.http.post(f"{self.api}/auth/challenge", timeout=30)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["nonce"])

    def login_envelope(self, identity: Identity, kind: str, nonce: str) -> dict[str, str]:
        payload = json.dumps({"nonce": nonce, "id": identity.id_number, "kind": kind}).encode()
        return {"payload": base64.b64encode(payload).decode(),
                "signature": base64.b64encode(self.openssl_sign(identity, payload)).decode()}

    def login(self, name: str, kind: str, nonce: str | None = None) -> Any:
        envelope = self.login_envelope(self.pki[name], kind, nonce or self.challenge())
        return self.http.post(f"{self.api}/auth/login", json=envelope, timeout=30)

    def bearer(self, name: str, kind: str) -> dict[str, str]:
        answer = self.login(name, kind)
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

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

    def envelope(self, doc: dict[str, Any]) -> dict[str, str]:
        company = self.pki["company"]
        payload = json.dumps(doc, ensure_ascii=False).encode()
        signature = sign_detached(payload, company.cert_pem(), company.key_pem(),
                                  company.chain_pems())
        return {"payload": base64.b64encode(payload).decode(),
                "signature": base64.b64encode(signature).decode()}

    def application(self, webhook_url: str, **extra: Any) -> dict[str, Any]:
        item = service_by_code(ITEM)
        assert item is not None
        materials = [self.upload(m.code, f"%PDF-1.4 {m.name}".encode())
                     for m in item.materials if m.required]
        return {"service_code": ITEM,
                "applicant": {"kind": "organization", "id": self.pki["company"].id_number,
                              "name": "肇庆市某某科技有限公司", "phone": PHONE,
                              "email": ADDRESS},
                "form": {"project_name": "星湖花园二期", "location": "肇庆市端州区",
                         "description": "住宅楼三栋"},
                "attachments": materials, "signed_at": datetime.now(UTC).isoformat(),
                "nonce": secrets.token_hex(12),
                "channels": ["inbox", "sms", "email", "webhook"], "webhook_url": webhook_url,
                **extra}

    def track(self, receipt: str, code: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.api}/track/{receipt}", params={"code": code}, timeout=30)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def wait_status(self, receipt: str, code: str, status: str) -> dict[str, Any]:
        return dict(self.stack.wait_for(
            lambda: (view := self.track(receipt, code))["status"] == status and view))

    def inbox(self, headers: dict[str, str]) -> list[dict[str, Any]]:
        answer = self.http.get(f"{self.api}/me/inbox", params={"limit": 100}, headers=headers,
                               timeout=30)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    # -- operator and redelivery

    def admin(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "tools.admin", "--stage", "local",
                               "--state-file", str(self.stack.state_dir / "stack.json"), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def recorded_events(self, receipt: str) -> list[dict[str, Any]]:
        """The notification events of a case as the notify step first received them."""
        table = names.table_name("local", names.Table.CLAIMS)
        found = []
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                key = item["key"]["S"]
                if key.startswith(f"notify#{receipt}:") and key.count("#") == 1:
                    found.append(json.loads(item["data"]["S"])["event"])
        return found

    def redeliver(self, events: list[dict[str, Any]]) -> None:
        url = self.sqs.get_queue_url(QueueName=names.queue_name("local", names.Queue.NOTIFY))[
            "QueueUrl"]
        for body in events:
            self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body, ensure_ascii=False))


@pytest.fixture(scope="module")
def portal(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Portal:
    demo = stack.state.get("demo", {})
    if not demo.get("pki_dir"):
        pytest.skip("the local stack loads no demo PKI")
    found = Portal(stack, build_pki(Path(demo["pki_dir"])), tmp_path_factory.mktemp("e2e-sig"))
    # The operator verifies the sender domain once per stage (SES); the local stack's too.
    found.ses.verify_email_identity(EmailAddress=names.email_sender("local"))
    return found


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_refused_logins_say_why(portal: Portal) -> None:
    for name, code in (("expired", "CERT_EXPIRED"), ("revoked", "CERT_REVOKED")):
        answer = portal.login(name, "person")
        assert answer.status_code == 401 and answer.json()["error"]["code"] == code
    envelope = portal.login_envelope(portal.pki["ec_citizen"], "person", portal.challenge())
    assert portal.http.post(f"{portal.api}/auth/login", json=envelope,
                            timeout=30).status_code == 200
    replayed = portal.http.post(f"{portal.api}/auth/login", json=envelope, timeout=30)
    assert (replayed.status_code, replayed.json()["error"]["code"]) == (401, "LOGIN_NONCE_USED")
    wrong = portal.login("ec_citizen", "person", nonce=secrets.token_urlsafe(24))
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "LOGIN_NONCE_UNKNOWN")


def test_a_lifecycle_tells_the_applicant_once_per_event_and_channel(portal: Portal,
                                                                    receiver: Receiver) -> None:
    company = portal.bearer("company", "organization")
    portal.admin("principals", "add", "--role", "officer", "--cert",
                 str(portal.pki["officer"].cert), "--department", DEPARTMENT, "--display", "赵六")
    officer = portal.bearer("officer", "staff")
    sms_before, mail_before = (len(s) for s in portal.sinks())

    answer = portal.http.post(f"{portal.api}/applications",
                              json=portal.envelope(portal.application(receiver.url)), timeout=30)
    assert answer.status_code == 202, answer.text
    receipt, code = answer.json()["receipt"], answer.json()["tracking_code"]
    portal.wait_status(receipt, code, "IN_REVIEW")
    mine = portal.http.get(f"{portal.api}/me/applications", headers=company, timeout=30).json()
    assert receipt in {a["receipt"] for a in mine["items"]}
    # Another applicant's token never reads this case.
    citizen = portal.bearer("rsa_citizen", "person")
    assert portal.http.get(f"{portal.api}/me/applications/{receipt}", headers=citizen,
                           timeout=30).status_code == 404

    task = f"{portal.api}/departments/{DEPARTMENT}/tasks/{receipt}/0"
    asked = portal.http.post(f"{task}/corrections", headers=officer, timeout=30,
                             json={"missing": [{"name": "项目用地证明"}], "note": "请补充盖章件"})
    assert asked.status_code == 200, asked.text
    portal.wait_status(receipt, code, "CORRECTION_REQUIRED")
    supplement = portal.application(receiver.url, supplement_to=receipt)
    supplement["attachments"] = [portal.upload("land_docs", b"%PDF-1.4 land")]
    answered = portal.http.post(f"{portal.api}/applications/{receipt}/supplements",
                                json=portal.envelope(supplement), timeout=30)
    assert answered.status_code == 202, answered.text
    approved = portal.http.post(f"{task}/approve", headers=officer, json={"comment": "同意"},
                                timeout=30)
    assert approved.status_code == 200, approved.text
    portal.wait_status(receipt, code, "APPROVED")

    lifecycle = {"accepted", "in_review", "correction_required", "supplement_received",
                 "approved", "licence_issued"}
    pushed = {"accepted", "correction_required", "approved"}

    def settled() -> bool:
        events = {m["event"] for m in portal.inbox(company) if m["receipt"] == receipt}
        hooks = {json.loads(b)["event"] for _, b in receiver.requests}
        return lifecycle <= events and lifecycle <= hooks

    portal.stack.wait_for(settled, timeout=60)

    def counts() -> tuple[Counter[str], list[str], list[dict[str, Any]], int]:
        inbox = Counter(m["event"] for m in portal.inbox(company) if m["receipt"] == receipt)
        sms, mails = portal.sinks()
        texts = [s["message"] for s in sms[sms_before:] if receipt in s["message"]]
        ours = [m for m in mails[mail_before:] if receipt in m["subject"]]
        return inbox, texts, ours, len(receiver.requests)

    inbox, texts, mails, hooks = counts()
    assert set(inbox) >= lifecycle and set(inbox.values()) == {1}
    assert len(texts) == len(mails) == len(pushed | ({"received"} & set(inbox)))
    assert hooks == sum(inbox.values())
    for text in texts + [m["body"] for m in mails]:
        assert f"/track/{receipt}" in text and portal.pki["company"].id_number not in text
    assert all(m["destinations"]["ToAddresses"] == [ADDRESS] for m in mails)
    assert any("项目用地证明" in t for t in texts)
    assert any(f"/licences/L{receipt}" in t for t in texts)
    secret = portal.http.get(f"{portal.api}/me/webhook", headers=company, timeout=30).json()[
        "secret"]
    for headers, body in receiver.requests:
        assert webhooks.verify(secret, headers["x-onestop-timestamp"], body,
                               headers["x-onestop-signature"], datetime.now(UTC))

    # The case file holds the proof: one delivery receipt per event and channel, public.
    timeline = portal.track(receipt, code)["timeline"]
    notified = Counter((e["about"], e["channel"]) for e in timeline if e["event"] == "NOTIFIED")
    assert set(notified.values()) == {1}
    assert {about for about, _ in notified} == set(inbox)
    assert all(e["status"] in ("sent", "delivered") for e in timeline if e["event"] == "NOTIFIED")

    # The department's officers heard of their new task in their shared inbox.
    tasks = [m for m in portal.inbox(officer) if m["receipt"] == receipt]
    assert [m["event"] for m in tasks] == ["new_task"]
    assert tasks[0]["links"]["task"].endswith(f"/departments/{DEPARTMENT}/tasks/{receipt}/0")

    # Every notification event delivered again: nothing more goes out anywhere.
    events = portal.recorded_events(receipt)
    assert {e["event"] for e in events} == set(inbox) | {"new_task"}
    portal.redeliver(events)
    url = portal.sqs.get_queue_url(QueueName=names.queue_name("local", names.Queue.NOTIFY))[
        "QueueUrl"]

    def drained() -> bool:
        attributes = portal.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return all(v == "0" for v in attributes.values())

    portal.stack.wait_for(drained, timeout=60)
    assert counts() == (inbox, texts, mails, hooks)
    assert [m["event"] for m in portal.inbox(officer) if m["receipt"] == receipt] == ["new_task"]
