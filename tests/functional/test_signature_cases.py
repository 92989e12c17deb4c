"""Each certificate of the openssl-made test PKI ends in the right status and reason code,
end to end: POST /applications, the verify handler, GET /track."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib import storage, verification
from chalicelib.contract import Reason, Status
from chalicelib.names import Bucket, Function, Queue
from chalicelib.store import cases
from tests.functional.applicants import (
    OPENSSL_VARIANTS,
    draft,
    envelope,
    openssl_cms_sign,
    sm2_sign,
    upload_materials,
)
from tests.functional.conftest import REGION, queue_url
from tools.lambda_shim import invoke_once

CASES = {
    # identity: (applicant kind, expected reason)
    "rsa_citizen": ("person", None),
    "ec_citizen": ("person", None),
    "ec384_citizen": ("person", None),
    "company": ("organization", None),
    "officer": ("person", None),
    "expired": ("person", Reason.CERT_EXPIRED),
    "not_yet_valid": ("person", Reason.CERT_NOT_YET_VALID),
    "revoked": ("person", Reason.CERT_REVOKED),
    "no_usage": ("person", Reason.CERT_USAGE),
    "untrusted": ("person", Reason.CERT_UNTRUSTED),
}


def submit(api, body: str) -> dict:
    answer = api.http.post("/applications", body=body,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 202, answer.body
    return json.loads(answer.body)


def run_verify(sqs) -> None:
    """Deliver what is on the verify queue to the verify handler, as Lambda would."""
    from app import app

    url = queue_url(sqs, Queue.VERIFY)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    while invoke_once(sqs, url, arn, REGION, app.handler_map[Function.VERIFY.value], "verify",
                      wait=0):
        pass


def track(api, receipt: str, code: str) -> dict:
    answer = api.http.get(f"/track/{receipt}?code={code}")
    assert answer.status_code == 200, answer.body
    return json.loads(answer.body)


def expect(api, sqs, accepted: dict, reason: Reason | None) -> dict:
    run_verify(sqs)
    view = track(api, accepted["receipt"], accepted["tracking_code"])
    if reason is None:
        assert view["status"] in (Status.ACCEPTED.value, Status.IN_REVIEW.value), view
        assert view["reason"] is None
    else:
        assert (view["status"], view["reason"]) == (Status.REJECTED.value, reason.value), view
    return view


@pytest.mark.parametrize("name", sorted(CASES))
def test_openssl_signed_application_gets_its_verdict(name: str, api, sqs, settings, trusted,
                                                     tmp_path: Path) -> None:
    kind, reason = CASES[name]
    identity = trusted[name]
    d = draft(kind, identity)
    upload_materials(settings, d)
    payload = d.payload()
    accepted = submit(api, envelope(payload, openssl_cms_sign(identity, payload, tmp_path)))
    expect(api, sqs, accepted, reason)


@pytest.mark.parametrize("variant", sorted(OPENSSL_VARIANTS))
def test_openssl_variants_are_accepted(variant: str, api, sqs, settings, trusted,
                                       tmp_path: Path) -> None:
    identity = trusted["rsa_citizen" if "rsa" in variant else "ec_citizen"]
    d = draft("person", identity)
    upload_materials(settings, d)
    payload = d.payload()
    signature = openssl_cms_sign(identity, payload, tmp_path, *OPENSSL_VARIANTS[variant])
    expect(api, sqs, submit(api, envelope(payload, signature)), None)


@pytest.mark.parametrize("wrapper", ["pkcs7", "gmt0010"])
def test_sm2_signatures_in_both_wrappers(wrapper: str, api, sqs, settings, trusted) -> None:
    identity = trusted["sm2_citizen"]
    d = draft("person", identity)
    upload_materials(settings, d)
    payload = d.payload()
    expect(api, sqs, submit(api, envelope(payload, sm2_sign(identity, payload,
                                                            wrapper=wrapper))), None)


def test_identity_must_match_the_certificate(api, sqs, settings, trusted, tmp_path) -> None:
    identity = trusted["rsa_citizen"]
    d = draft("person", identity, applicant_id=trusted["ec_citizen"].id_number)
    upload_materials(settings, d)
    payload = d.payload()
    accepted = submit(api, envelope(payload, openssl_cms_sign(identity, payload, tmp_path)))
    expect(api, sqs, accepted, Reason.IDENTITY_MISMATCH)


def test_tampered_payload_is_caught(api, sqs, settings, trusted, tmp_path) -> None:
    identity = trusted["ec_citizen"]
    d = draft("person", identity)
    upload_materials(settings, d)
    signed = d.payload()
    signature = openssl_cms_sign(identity, signed, tmp_path)
    d.doc["form"] = {k: (v + "改" if isinstance(v, str) else v) for k, v in d.doc["form"].items()}
    expect(api, sqs, submit(api, envelope(d.payload(), signature)), Reason.SIGNATURE_INVALID)


def test_tampered_signature_is_caught(api, sqs, settings, trusted, tmp_path) -> None:
    identity = trusted["ec_citizen"]
    d = draft("person", identity)
    upload_materials(settings, d)
    payload = d.payload()
    signature = bytearray(openssl_cms_sign(identity, payload, tmp_path))
    signature[-5] ^= 0x01  # inside the signature value: the structure still parses
    expect(api, sqs, submit(api, envelope(payload, bytes(signature))),
           Reason.SIGNATURE_INVALID)


def test_tampered_attachment_is_caught(api, sqs, settings, trusted, tmp_path) -> None:
    identity = trusted["ec_citizen"]
    d = draft("person", identity)
    first = next(iter(d.materials))
    upload_materials(settings, d, stored=lambda code, b: b + b"!" if code == first else b)
    payload = d.payload()
    accepted = submit(api, envelope(payload, openssl_cms_sign(identity, payload, tmp_path)))
    expect(api, sqs, accepted, Reason.ATTACHMENT_MISMATCH)


def test_unknown_revocation_is_held_then_rejected(api, sqs, settings, trusted,
                                                  tmp_path) -> None:
    bucket = settings.bucket(Bucket.TRUST)
    crl_keys = [k for k in storage.list_keys(bucket, "crls/")]
    saved = {k: storage.get(bucket, k) for k in crl_keys}
    for key in crl_keys:
        storage.delete(bucket, key)
    verification.trust_cache.clear()
    try:
        identity = trusted["ec_citizen"]
        d = draft("person", identity)
        upload_materials(settings, d)
        payload = d.payload()
        accepted = submit(api, envelope(payload, openssl_cms_sign(identity, payload, tmp_path)))
        receipt = accepted["receipt"]
        message = {"receipt": receipt}
        now = datetime.now(UTC)
        with pytest.raises(verification.RevocationPending):
            verification.handle(settings, message, now, 1)
        held = cases.get(receipt, consistent=True)
        assert held.status == Status.RECEIVED.value  # held, never accepted silently
        assert held.reason == Reason.REVOCATION_UNKNOWN.value
        later = now + timedelta(seconds=settings.revocation_hold_seconds + 1)
        verification.handle(settings, message, later, 2)
        view = track(api, receipt, accepted["tracking_code"])
        assert (view["status"], view["reason"]) == (Status.REJECTED.value,
                                                    Reason.REVOCATION_UNKNOWN.value)
    finally:
        for key, data in saved.items():
            storage.put(bucket, key, data)
        verification.trust_cache.clear()
    assert replace(settings) == settings


def test_evidence_is_readable_with_the_tracking_code(api, sqs, settings, trusted,
                                                     tmp_path) -> None:
    identity = trusted["rsa_citizen"]
    d = draft("person", identity)
    upload_materials(settings, d)
    payload = d.payload()
    signature = openssl_cms_sign(identity, payload, tmp_path)
    accepted = submit(api, envelope(payload, signature))
    run_verify(sqs)
    answer = api.http.get(f"/applications/{accepted['receipt']}/evidence"
                          f"?code={accepted['tracking_code']}")
    assert answer.status_code == 200, answer.body
    evidence = json.loads(answer.body)
    import base64

    assert base64.b64decode(evidence["signature"]) == signature
    report = evidence["report"]
    assert json.dumps(report)  # JSON all the way
    wrong = api.http.get(f"/applications/{accepted['receipt']}/evidence?code=WRONG")
    assert wrong.status_code == 404


def _fingerprint(identity) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return x509.load_pem_x509_certificate(identity.cert_pem()).fingerprint(
        hashes.SHA256()).hex()


@pytest.mark.parametrize("enrolled", [True, False])
def test_assisted_case_is_accepted_only_when_signed_by_an_enrolled_clerk(
        enrolled: bool, sqs, settings, trusted, tmp_path) -> None:
    from chalicelib import submission
    from chalicelib.store import principals

    clerk = trusted["officer"]  # the window clerk's own certificate
    fingerprint = _fingerprint(clerk)
    key = principals.fingerprint_key(fingerprint)
    if enrolled:
        principals.enrol(key, "clerk", department=None, display="三号窗口", email=None,
                         now=datetime.now(UTC))
    else:
        principals.remove(key)
    person = trusted["ec_citizen"]  # stands for a person without a certificate
    d = draft("person", person)
    upload_materials(settings, d)
    payload = d.payload()
    body = envelope(payload, openssl_cms_sign(clerk, payload, tmp_path)).encode()
    accepted = submission.submit(body, settings, datetime.now(UTC), assisted_by=key)
    run_verify(sqs)
    decided = cases.get(accepted.receipt, consistent=True)
    if enrolled:
        assert decided.status == Status.ACCEPTED.value, decided.reason
    else:
        assert (decided.status, decided.reason) == (Status.REJECTED.value,
                                                    Reason.IDENTITY_MISMATCH.value)


def test_per_ca_identity_rule_from_the_trust_bucket(api, sqs, settings, trusted,
                                                    tmp_path) -> None:
    bucket = settings.bucket(Bucket.TRUST)
    # This CA puts the identity in the CN instead: our citizen's CN is a name, so the
    # application's ID number no longer binds.
    rules = {"intermediates/onestop-citizen-ca.pem": {"identity_attribute": "2.5.4.3"}}
    storage.put(bucket, verification.CA_RULES_KEY, json.dumps(rules).encode())
    verification.trust_cache.clear()
    try:
        identity = trusted["rsa_citizen"]
        d = draft("person", identity)
        upload_materials(settings, d)
        payload = d.payload()
        accepted = submit(api, envelope(payload, openssl_cms_sign(identity, payload, tmp_path)))
        expect(api, sqs, accepted, Reason.IDENTITY_MISMATCH)
    finally:
        storage.delete(bucket, verification.CA_RULES_KEY)
        verification.trust_cache.clear()


def test_trust_store_changes_reach_the_verifier_within_a_minute(settings, trusted) -> None:
    import time

    bucket = settings.bucket(Bucket.TRUST)
    cache = verification._TrustCache()
    start = time.monotonic()
    before = cache.get(bucket, 60, now=start)
    extra = "roots/extra-rogue.pem"
    storage.put(bucket, extra, trusted.untrusted_root.read_bytes())
    try:
        # Cached in the function: not read per message...
        assert cache.get(bucket, 60, now=start + 59) is before
        # ...and picked up once the minute is over.
        after = cache.get(bucket, 60, now=start + 61)
        assert after is not before
    finally:
        storage.delete(bucket, extra)


def test_a_repeated_nonce_answers_409_with_the_original_receipt(api, settings, trusted,
                                                                tmp_path) -> None:
    identity = trusted["ec_citizen"]
    d = draft("person", identity)
    upload_materials(settings, d)
    payload = d.payload()
    body = envelope(payload, openssl_cms_sign(identity, payload, tmp_path))
    first = submit(api, body)
    again = api.http.post("/applications", body=body,
                          headers={"Content-Type": "application/json"})
    assert again.status_code == 409
    error = json.loads(again.body)["error"]
    assert error["code"] == "DUPLICATE_NONCE"
    assert error["receipt"] == first["receipt"]


def test_upload_requests_are_bounded(api) -> None:
    def ask(**fields: object) -> tuple[int, dict]:
        answer = api.http.post("/uploads", body=json.dumps(fields),
                               headers={"Content-Type": "application/json"})
        return answer.status_code, json.loads(answer.body)

    status, grant = ask(name="营业执照", content_type="application/pdf", size=1000)
    assert status == 201 and grant["url"] and grant["upload_id"]
    assert ask(name="x", content_type="application/x-msdownload", size=10)[0] == 415
    assert ask(name="x", content_type="application/pdf", size=10**9)[0] == 413
    assert ask(name="", content_type="application/pdf", size=10)[0] == 400
