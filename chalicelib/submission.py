"""Submission intake: cheap checks, durable store, then queue for verification.

The application's bytes go to S3 and its record to DynamoDB (with the nonce claim, in one
transaction) *before* the queue message is sent. The record carries an ``outbox`` marker that
is cleared once the message is sent; a scheduled sweeper re-sends any application whose marker
is older than a minute, so a crash between the two steps never loses an application. The
verify step is idempotent, so a duplicate message is harmless.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import idnumbers, intake, queues, stats, storage
from chalicelib.contract import Status
from chalicelib.names import Bucket, Queue
from chalicelib.settings import Settings
from chalicelib.signature import MalformedSignature, parse_envelope_signature
from chalicelib.store import cases, catalog
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
        outbox=Queue.VERIFY.value,
        assisted=assisted_by is not None,
        assisted_by=assisted_by,
    )
    cases.create(record, claim_key=cases.nonce_key(akey, application["nonce"]))
    enqueue_verify(settings, receipt)
    stats.record_received(receipt, item["department"], item["code"], now)
    log.info("application received", extra={"receipt": receipt, "service_code": item["code"]})
    return Accepted(receipt, tracking)


def enqueue_verify(settings: Settings, receipt: str) -> None:
    """Send the verify message, then clear the outbox marker; tell the applicant it arrived.

    The sweeper may call this twice for one receipt; the notify step sends each event once.
    """
    queues.send(settings.queue(Queue.VERIFY), {"receipt": receipt})
    cases.clear_outbox(receipt)
    queues.send(settings.queue(Queue.NOTIFY), {"event": "received", "receipt": receipt,
                                               "event_id": f"{receipt}:received"})


def sweep(settings: Settings, now: datetime, *, grace: timedelta = timedelta(minutes=1)) -> int:
    """Re-send applications stuck in the outbox for longer than ``grace``."""
    stuck = cases.pending_outbox(now - grace)
    for receipt in stuck:
        enqueue_verify(settings, receipt)
    if stuck:
        log.warning("outbox re-sent", extra={"count": len(stuck)})
    return len(stuck)
