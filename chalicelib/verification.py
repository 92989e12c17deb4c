"""The verify step: CA signature, certificate path, revocation, identity, attachments.

Runs once per received application (idempotent: only a ``RECEIVED`` application is acted on).
Outcomes: ``ACCEPTED`` and queued for routing; ``REJECTED`` with one reason code; or held when
revocation status is unknown (the message is retried until ``revocation_hold_seconds`` pass,
then the application is rejected with ``REVOCATION_UNKNOWN`` — never silently accepted).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from chalicelib import evidence, outbox, storage, uploads
from chalicelib.contract import Reason, Status
from chalicelib.errors import RetryableError
from chalicelib.names import Bucket, Queue
from chalicelib.settings import Settings
from chalicelib.signature import CaRule, TrustStore, verify_detached
from chalicelib.store import cases, catalog, steps
from chalicelib.store.models import ApplicationModel

log = logging.getLogger(__name__)
TRUST_PREFIXES = ("roots/", "intermediates/", "crls/")
# Per-CA rules (identity binding, SM2 signer ID, EKUs), keyed by the CA's object key or its
# SHA-256 fingerprint: {"roots/x.pem": {"identity_cn_pattern": "...", "sm2_signer_id": "..."}}.
CA_RULES_KEY = "rules/ca-rules.json"


def ca_rules(document: bytes) -> dict[str, CaRule]:
    """Parse the trust bucket's rules document."""
    rules = {}
    for ca, given in json.loads(document).items():
        fields = dict(given)
        if "sm2_signer_id" in fields:
            fields["sm2_signer_id"] = str(fields["sm2_signer_id"]).encode()
        if fields.get("signing_ekus") is not None:
            fields["signing_ekus"] = frozenset(fields["signing_ekus"])
        rules[ca] = CaRule(**fields)
    return rules


class RevocationPending(RetryableError):
    """Revocation status unknown; the application is held and the message retried."""


class _TrustCache:
    """The trust store as last read from the trust bucket, refreshed at most once a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded_at = -1e18
        self._store: TrustStore | None = None

    def get(self, bucket: str, max_age: float, *, now: float | None = None) -> TrustStore:
        """The trust store, re-read from ``bucket`` when older than ``max_age`` seconds."""
        now = time.monotonic() if now is None else now
        if self._store is not None and now - self._loaded_at < max_age:
            return self._store
        with self._lock:
            if self._store is None or now - self._loaded_at >= max_age:
                objects = {key: storage.get(bucket, key) for prefix in TRUST_PREFIXES
                           for key in storage.list_keys(bucket, prefix)}
                rules = storage.head(bucket, CA_RULES_KEY)
                self._store = TrustStore.from_objects(
                    objects, ca_rules(storage.get(bucket, CA_RULES_KEY)) if rules else None)
                self._loaded_at = now
        return self._store

    def clear(self) -> None:
        with self._lock:
            self._store = None


trust_cache = _TrustCache()


def check_attachments(declared: list[dict[str, Any]], bucket: str) -> bool:
    """Each declared attachment exists with the signed size and SHA-256."""
    for attachment in declared:
        key = uploads.object_key(attachment["upload_id"])
        meta = storage.head(bucket, key)
        if meta is None or int(meta["ContentLength"]) != int(attachment["size"]):
            return False
        if hashlib.sha256(storage.get(bucket, key)).hexdigest() != attachment["sha256"].lower():
            return False
    return True


def signed_by_its_clerk(application: ApplicationModel, fingerprint: str | None) -> bool:
    """An assisted case whose signer is the enrolled clerk who submitted it."""
    if not application.assisted or not fingerprint:
        return False
    from chalicelib.principal import Role
    from chalicelib.store import principals

    enrolment = principals.find(principals.fingerprint_key(fingerprint))
    if enrolment is None or enrolment.role != Role.CLERK.value:
        return False
    return application.assisted_by in (None, fingerprint, enrolment.principal)


def handle(settings: Settings, message: dict[str, Any], now: datetime, receive_count: int) -> None:
    """Verify the application named in ``message``."""
    application = cases.find(message["receipt"])
    if application is None or application.status != Status.RECEIVED.value:
        if application is not None:
            outbox.deliver(settings, application.receipt)  # what the verdict's step still owes
        return  # already decided: a redelivery
    uploads = settings.bucket(Bucket.UPLOADS)
    payload = storage.get(uploads, application.payload_key)
    signature = storage.get(uploads, application.signature_key)
    doc = json.loads(payload)
    trust = trust_cache.get(settings.bucket(Bucket.TRUST), settings.trust_cache_seconds)
    signed_at = _parse_time(doc.get("signed_at"))
    verdict = verify_detached(payload, signature, trust, now=now,
                              applicant_id=doc["applicant"]["id"], signed_at=signed_at)
    reason = verdict.reason
    if reason is Reason.IDENTITY_MISMATCH and signed_by_its_clerk(application,
                                                                  verdict.signer_fingerprint):
        # 窗口代办: the clerk's signature stands in for the applicant's identity binding; every
        # other check (signature, path, revocation) has passed, as IDENTITY_MISMATCH is last.
        reason = None
        report_note = {"assisted": True, "clerk_fingerprint": verdict.signer_fingerprint,
                       "indication": "TOTAL_PASSED", "sub_indication": None}
    else:
        report_note = {}
    # pynamodb hands raw maps back as dicts when they were stored as plain dicts.
    declared = [a if isinstance(a, dict) else a.as_dict() for a in application.attachments]
    if reason is None and not check_attachments(declared, uploads):
        reason = Reason.ATTACHMENT_MISMATCH
    report = dict(verdict.report) | report_note
    if reason is not None:
        report["indication"] = ("INDETERMINATE" if reason is Reason.REVOCATION_UNKNOWN
                                else "TOTAL_FAILED")
        report["sub_indication"] = reason.value
    evidence.store(settings, application.receipt, report, signature)
    if reason is Reason.REVOCATION_UNKNOWN:
        held_since = application.held_since or now
        if now - held_since < timedelta(seconds=settings.revocation_hold_seconds):
            if application.held_since is None:
                cases.step(application, {Status.RECEIVED}, Status.RECEIVED, now,
                           records=[steps.Record("held", "verify", now,
                                                 {"reason": reason.value})],
                           held_since=now, reason=reason.value)
            raise RevocationPending(application.receipt)
    status = Status.ACCEPTED if reason is None else Status.REJECTED
    data = {"reason": reason.value} if reason is not None else {}
    event = "accepted" if reason is None else "rejected"
    owed = [_notice(settings, application, event, reason), _count(application, event, now)]
    if reason is None:
        owed.insert(0, steps.message(settings.queue(Queue.ROUTE),
                                     {"kind": "open", "receipt": application.receipt}))
    cases.step(application, {Status.RECEIVED}, status, now,
               records=[steps.Record(status.value, "verify", now, data)], outbox=owed,
               reason=reason.value if reason else None,
               signer_fingerprint=verdict.signer_fingerprint)
    outbox.deliver(settings, application.receipt)
    log.info("verified", extra={"receipt": application.receipt,
                                "reason": reason.value if reason else None})


def _notice(settings: Settings, application: ApplicationModel, event: str,
            reason: Reason | None) -> dict[str, Any]:
    return steps.message(settings.queue(Queue.NOTIFY), {
        "event": event, "receipt": application.receipt,
        "event_id": f"{application.receipt}:{event}",
        "reason": reason.value if reason else None})


def _count(application: ApplicationModel, event: str, now: datetime) -> dict[str, Any]:
    """The outcome counted in the statistics of the case's department and item."""
    item = catalog.version(application.service_code, int(application.service_version))
    department = item["department"] if item else "unknown"
    return steps.effect("count", event=event, department=department,
                        service_code=application.service_code, at=now.isoformat())


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
