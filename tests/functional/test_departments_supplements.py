"""A correction round: the officer asks (补正), the clock stops, the applicant answers with a
signed supplement, the clock restarts with the right due date."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import storage, uploads, workflow
from chalicelib.names import Bucket
from chalicelib.store import cases, tasks
from tests.functional.conftest import ROOT
from tests.functional.test_departments import SINGLE, as_json, opened, post
from tests.functional.test_workflow import (
    bearer,
    clean_queues,
    dept_queue,
    drain,
    honour_kms_digest,
    officer,
    variant,
)
from tools.pki import Pki
from tools.signing import sign_detached


@pytest.fixture
def client(settings, trusted: Pki) -> Iterator[Client]:
    """The API, with the session's test PKI in the trust store (``trusted``, conftest)."""
    honour_kms_digest()
    from app import app

    with Client(app, stage_name="local", project_dir=str(ROOT)) as test_client:
        yield test_client
    clean_queues("ghj")


def _upload(settings: Any, name: str, data: bytes) -> dict[str, Any]:
    upload_id = secrets.token_urlsafe(12)
    storage.put(settings.bucket(Bucket.UPLOADS), uploads.object_key(upload_id), data)
    return {"upload_id": upload_id, "name": name, "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data)}


def envelope(pki: Pki, who: str, doc: dict[str, Any], *, tamper: bool = False) -> dict[str, str]:
    identity = pki[who]
    payload = json.dumps(doc, ensure_ascii=False).encode()
    signature = sign_detached(payload, identity.cert_pem(), identity.key_pem(),
                              identity.chain_pems())
    if tamper:
        payload = payload.replace("消防".encode(), "环保".encode())
    return {"payload": base64.b64encode(payload).decode(),
            "signature": base64.b64encode(signature).decode()}


def supplement_doc(pki: Pki, receipt: str, at: datetime, attachments: list[dict[str, Any]],
                   who: str = "company") -> dict[str, Any]:
    identity = pki[who]
    kind = "organization" if who == "company" else "person"
    return {"service_code": SINGLE["code"], "supplement_to": receipt,
            "applicant": {"kind": kind, "id": identity.id_number, "name": "肇庆市某某科技有限公司"},
            "form": {"project_name": "补正"}, "attachments": attachments,
            "signed_at": at.isoformat(), "nonce": secrets.token_hex(10)}


def test_a_correction_round_stops_and_restarts_the_clock(settings, client, pki) -> None:
    company = pki["company"]
    applicant = {"kind": "organization", "id": company.id_number, "name": "肇庆市某某科技有限公司"}
    start = datetime.now(UTC).replace(microsecond=0)
    receipt = opened(settings, SINGLE, start, applicant=applicant)
    ghj = bearer(settings, officer("ghj"))
    base = f"/departments/ghj/tasks/{receipt}/0"
    due_before = workflow.find_task(receipt, 0, "ghj").due_date
    asked = start + timedelta(days=1)
    assert post(client, f"{base}/corrections", ghj,
                {"missing": [{"name": "消防验收意见书"}]}, at=asked).status_code == 200
    drain(dept_queue("ghj"))

    answered = start + timedelta(days=8)
    material = _upload(settings, "消防验收意见书", b"%PDF-1.4 fire inspection")
    doc = supplement_doc(pki, receipt, answered, [material])
    path = f"/applications/{receipt}/supplements"
    answer = post(client, path, {}, envelope(pki, "company", doc), at=answered)
    assert answer.status_code == 202, answer.body
    expected = workflow.due_date(start, 5, pauses=[(asked, answered)])
    assert as_json(answer)["tasks"] == [{"department": "ghj", "stage": 0,
                                         "due_date": expected.isoformat()}]
    assert expected.isoformat() > due_before
    task = workflow.find_task(receipt, 0, "ghj")
    assert (task.state, task.due_date, task.paused_since) == ("open", expected.isoformat(), None)
    assert task.open_shard is not None
    application = cases.get(receipt, consistent=True)
    assert application.status == "IN_REVIEW" and application.paused_since is None
    assert [workflow.plain(p) for p in application.pauses] == [
        {"from": asked.isoformat(), "to": answered.isoformat()}]
    [message] = drain(dept_queue("ghj"), receipt)
    assert message["kind"] == "task.resumed" and message["due_date"] == expected.isoformat()

    detail = as_json(client.http.get(base, headers=ghj))
    [supplement] = detail["supplements"]
    assert supplement["materials"][0]["name"] == "消防验收意见书"
    assert supplement["application"]["supplement_to"] == receipt

    # The same envelope again: the case no longer waits for a supplement.
    again = post(client, path, {}, envelope(pki, "company", doc), at=answered)
    assert again.status_code == 409
    assert post(client, f"{base}/approve", ghj).status_code == 200


def test_supplements_are_checked_like_applications(settings, client, pki) -> None:
    company = pki["company"]
    applicant = {"kind": "organization", "id": company.id_number, "name": "肇庆市某某科技有限公司"}
    start = datetime.now(UTC).replace(microsecond=0)
    receipt = opened(settings, SINGLE, start, applicant=applicant)
    post(client, f"/departments/ghj/tasks/{receipt}/0/corrections",
         bearer(settings, officer("ghj")), {"missing": ["消防验收意见书"]}, at=start)
    path = f"/applications/{receipt}/supplements"
    at = start + timedelta(hours=2)

    def send(doc: dict[str, Any], who: str = "company", *, tamper: bool = False) -> Any:
        return post(client, path, {}, envelope(pki, who, doc, tamper=tamper), at=at)

    material = _upload(settings, "消防验收意见书", b"%PDF-1.4 report")
    wrong_receipt = supplement_doc(pki, receipt, at, [material]) | {"supplement_to": "OTHER"}
    assert as_json(send(wrong_receipt))["error"]["code"] == "SUPPLEMENT_MISMATCH"
    stranger = send(supplement_doc(pki, receipt, at, [material], who="ec_citizen"), "ec_citizen")
    assert stranger.status_code == 403
    tampered = send(supplement_doc(pki, receipt, at, [material]), tamper=True)
    assert tampered.status_code == 422
    assert as_json(tampered)["error"]["code"] == "SIGNATURE_INVALID"
    lying = dict(material, sha256="0" * 64)
    mismatch = send(supplement_doc(pki, receipt, at, [lying]))
    assert as_json(mismatch)["error"]["code"] == "ATTACHMENT_MISMATCH"
    assert post(client, path, {}, {"payload": "!!", "signature": "x"}, at=at).status_code == 400
    assert cases.get(receipt, consistent=True).status == "CORRECTION_REQUIRED"
    assert send(supplement_doc(pki, receipt, at, [material])).status_code == 202


def test_a_correction_asked_while_the_answer_arrives_is_not_left_behind(
        settings, client, pki, monkeypatch) -> None:
    """hbj asks for a correction between the supplement's read and its write: the case must
    not go back to review with hbj's task still waiting; the answer resumes both."""
    company = pki["company"]
    applicant = {"kind": "organization", "id": company.id_number, "name": "肇庆市某某科技有限公司"}
    start = datetime.now(UTC).replace(microsecond=0)
    receipt = opened(settings, variant("441200-test-par2", {
        "model": "parallel", "decider": None, "decider_days": 0,
        "stages": [{"departments": ["ghj", "hbj"], "working_days": 5}]}), start,
        applicant=applicant)
    post(client, f"/departments/ghj/tasks/{receipt}/0/corrections",
         bearer(settings, officer("ghj")), {"missing": ["竣工图纸"]}, at=start)
    real_for_case = tasks.for_case
    calls = {"n": 0}

    def stale_then_real(case: str, **kw: Any) -> list[Any]:
        found = real_for_case(case, **kw)
        calls["n"] += 1
        if calls["n"] == 1:  # the supplement read the tasks; hbj now asks too
            workflow.require_correction(settings, officer("hbj"),
                                        workflow.find_task(receipt, 0, "hbj"),
                                        [{"name": "环评批复"}], "", start + timedelta(hours=1))
        return found

    monkeypatch.setattr(tasks, "for_case", stale_then_real)
    at = start + timedelta(hours=2)
    material = _upload(settings, "竣工图纸", b"%PDF-1.4 drawings")
    doc = supplement_doc(pki, receipt, at, [material]) | {"service_code": "441200-test-par2"}
    answer = post(client, f"/applications/{receipt}/supplements", {},
                  envelope(pki, "company", doc), at=at)
    assert answer.status_code == 202, answer.body
    assert sorted(t["department"] for t in as_json(answer)["tasks"]) == ["ghj", "hbj"]
    assert {t.state for t in real_for_case(receipt)} == {"open"}
    assert cases.get(receipt, consistent=True).status == "IN_REVIEW"
