"""The service window (窗口代办): a clerk submits, signing with the clerk's own certificate, for a
person without one; the case is marked assisted and names the clerk."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime

from chalicelib.principal import Principal, Role
from chalicelib.store import caselog, cases
from tests.functional.test_departments import as_json, post
from tests.functional.test_departments_supplements import _upload, client  # noqa: F401
from tests.functional.test_workflow import bearer, officer, pilot, publish
from tools.pki import resident_id
from tools.signing import sign_detached

TRANSFER = "441200-jyj-0007"  # 中小学生转学: a person's item, fully online


def test_a_clerk_submits_for_a_person_without_a_certificate(
        settings, client, pki) -> None:  # noqa: F811 - the client fixture imported above
    publish(pilot(TRANSFER))
    now = datetime.now(UTC)
    materials = [_upload(settings, "application", b"%PDF-1.4 scanned form"),
                 _upload(settings, "id_card", b"\xff\xd8\xff scanned id card")]
    person = {"kind": "person", "id": resident_id("44120320080101001"), "name": "陈小明"}
    doc = {"service_code": TRANSFER, "applicant": person,
           "form": {"reason": "随父母工作调动转学"}, "attachments": materials,
           "signed_at": now.isoformat(), "nonce": secrets.token_hex(10)}
    payload = json.dumps(doc, ensure_ascii=False).encode()
    clerk_cert = pki["officer"]  # the window clerk's own certificate
    envelope = {"payload": base64.b64encode(payload).decode(),
                "signature": base64.b64encode(sign_detached(
                    payload, clerk_cert.cert_pem(), clerk_cert.key_pem(),
                    clerk_cert.chain_pems())).decode()}

    assert post(client, "/clerk/applications", {}, envelope).status_code == 401
    assert post(client, "/clerk/applications", bearer(settings, officer("jyj")),
                envelope).status_code == 403
    clerk = Principal(Role.CLERK, "cert-clerk-window-3", None, "三号窗口")
    answer = post(client, "/clerk/applications", bearer(settings, clerk), envelope)
    assert answer.status_code == 202, answer.body
    body = as_json(answer)
    assert body["status"] == "RECEIVED" and body["assisted"] is True and body["tracking_code"]
    application = cases.get(body["receipt"], consistent=True)
    assert application.assisted is True
    assert application.assisted_by == "cert-clerk-window-3"
    [record] = [r for r in caselog.records(body["receipt"]) if r.kind == "ASSISTED_SUBMISSION"]
    assert record.actor == "cert-clerk-window-3" and record.public is False
