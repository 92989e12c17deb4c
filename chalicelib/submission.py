"""Submission intake: cheap checks, durable store, then queue for verification.

The application's bytes go to S3 and its record to DynamoDB (with the nonce claim, in one
transaction) *before* any message is sent. The record carries its outbox (the verify message,
the "received" notification and the statistics count, ``store/steps.py``), delivered right
after the write by ``chalicelib.outbox`` or, should this process die first, by the sweeper; so a
crash at any point never loses an application. The verify step is idempotent, so a duplicate
message is harmless.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import idnumbers, intake, outbox, storage
from chalicelib.contract import Status
from chalicelib.names import Bucket, Queue
from chalicelib.settings import Settings
from chalicelib.signature import MalformedSignature, parse_envelope_signature
from chalicelib.store import cases, catalog, steps
from chalicelib.store.models import ApplicationModel

log = logging.getLogger(__name__)


class UnknownService(intake.IntakeError):
    """The service code is not in the catalog (or not offered online)."""

    status = 404
    code = "UNKNOWN_SERVICE"
    message_zh = "办理事项不存在或未开通网上办理"
    message_en = "unknown service item, or not offered online"


@dataclass(frozen=True)
class Accepted:
    """What the applicant gets back (202)."""

    receipt: str
    tracking_code: str

    def body(self, base_url: str) -> dict[str, Any]:
        """The contract's 202 body."""
        track = f"{base_url}/track/{self.receipt}?code={self.tracking_code}"
        return {"receipt": self.receipt, "tracking_code": self.tracking_code,
                "status": Status.RECEIVED.value,
                "links": {"track": track, "self": f"{base_url}/applications/{self.receipt}"}}


def applicant_key(settings: Settings, kind: str, ident: str) -> str:
    """Non-reversible key of an applicant (HMAC of kind and number), for indexes and claims."""
    return idnumbers.applicant_key(kind, ident, settings.pepper)


def check(body: bytes, settings: Settings, now: datetime) -> tuple[intake.Envelope, dict[str, Any],
                                                                    dict[str, Any]]:
    """Every cheap check, in order; returns the envelope, the application and its service item."""
    envelope = intake.parse_envelope(body)
    application = intake.parse_application(envelope.payload)
    item = catalog.current(application["service_code"])
    if item is None or not item.get("online", False):
        raise UnknownService(details={"service_code": application["service_code"]})
    limit = int(item.get("max_payload_bytes") or 0)
    if limit and len(envelope.payload) > limit:
        raise intake.IntakeError("申请内容超过该事项允许的大小",
                                 "payload larger than the item allows",
                                 code="PAYLOAD_TOO_LARGE", status=413,
                                 details={"max_bytes": limit})
    intake.check_form(application["form"], item.get("form_schema") or {"type": "object"})
    intake.check_materials(application.get("attachments", []), item.get("materials", []))
    applicant = application["applicant"]
    try:
        applicant["id"] = idnumbers.validate_applicant_id(applicant["kind"], applicant["id"])
    except idnumbers.InvalidIdNumber as exc:
        raise intake.IntakeError(exc.message_zh, exc.message_en, code=exc.code) from exc
    intake.parse_signed_at(application["signed_at"], now,
                           timedelta(seconds=settings.signed_at_skew_seconds))
    try:
        parse_envelope_signature(envelope.signature)
    except MalformedSignature as exc:
        raise intake.IntakeError("签名不是有效的CMS SignedData结构",
                                 f"the signature is not a valid CMS SignedData: {exc}",
                                 code="INVALID_SIGNATURE_STRUCTURE") from exc
    return envelope, application, item


def submit(body: bytes, settings: Settings, now: datetime, *,
           assisted_by: str | None = None) -> Accepted:
    """Check, store durably, then queue an application for verification.

    ``assisted_by`` is the clerk who submits for a person without a certificate (窗口代办); it
    is stored with the application, before verification can see it.
    """
    envelope, application, item = check(body, settings, now)
    applicant = application["applicant"]
    akey = applicant_key(settings, applicant["kind"], applicant["id"])
    receipt = cases.new_receipt(now)
    tracking = cases.new_tracking_code()
    uploads = settings.bucket(Bucket.UPLOADS)
    payload_key = f"applications/{receipt}/payload.json"
    signature_key = f"applications/{receipt}/signature.p7s"
    storage.put(uploads, payload_key, envelope.payload, content_type="application/json")
    storage.put(uploads, signature_key, envelope.signature,
                content_type="application/pkcs7-signature")
    contact = {k: applicant[k] for k in ("phone", "email") if k in applicant}
    contact["channels"] = application.get("channels") or ["inbox", "sms"]
    if "webhook_url" in application:
        contact["webhook_url"] = application["webhook_url"]
    record = ApplicationModel(
        receipt,
        status=Status.RECEIVED.value,
        service_code=item["code"],
        service_version=int(item.get("version", 1)),
        applicant_key=akey,
        applicant_kind=applicant["kind"],
        applicant_masked=idnumbers.mask(applicant["id"]),
        tracking_hash=hashlib.sha256(tracking.encode()).hexdigest(),
        nonce=application["nonce"],
        received_at=now,
        updated_at=now,
        payload_key=payload_key,
        signature_key=signature_key,
        payload_sha256=envelope.payload_sha256,
        attachments=[{"upload_id": a["upload_id"], "name": a["name"], "sha256": a["sha256"],
                      "size": a["size"]} for a in application.get("attachments", [])],
        contact=contact,
        outbox=steps.PENDING,
        outbox_at=now,
        pending=[json.dumps(e, sort_keys=True, ensure_ascii=False) for e in [
            steps.message(settings.queue(Queue.VERIFY), {"receipt": receipt}),
            steps.message(settings.queue(Queue.NOTIFY), {
                "event": "received", "receipt": receipt, "event_id": f"{receipt}:received"}),
            steps.effect("count", event="received", department=item["department"],
                         service_code=item["code"], at=now.isoformat()),
        ]],
        assisted=assisted_by is not None,
        assisted_by=assisted_by,
    )
    cases.create(record, claim_key=cases.nonce_key(akey, application["nonce"]))
    outbox.deliver(settings, receipt)
    log.info("application received", extra={"receipt": receipt, "service_code": item["code"]})
    return Accepted(receipt, tracking)
