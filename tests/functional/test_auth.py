"""Certificate login on the real template in moto: challenge, signed nonce, token, refusals.

Certificates come from the openssl-made test PKI (``tools/pki.py``); one login is signed by the
``openssl cms`` command line itself, the others by ``tools/signing.py``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
from datetime import UTC, datetime, timedelta

import boto3
import jwt

from chalicelib import idnumbers, login
from chalicelib.api import authz
from chalicelib.principal import Principal, Role
from chalicelib.store import principals
from tests.functional import test_auth_fixtures
from tests.functional.conftest import REGION
from tests.functional.test_auth_fixtures import (
    as_json,
    bearer_for,
    challenge,
    login_envelope,
    minted,
    post_json,
)
from tests.functional.test_workflow import JOINT, accepted_case, pilot
from tools import admin

PEPPER = b"test-pepper"
http = test_auth_fixtures.http


def _error(response) -> str:
    return str(as_json(response)["error"]["code"])


def test_an_openssl_signed_nonce_logs_a_citizen_in(http, pki, tmp_path) -> None:
    citizen = pki["rsa_citizen"]
    nonce = challenge(http)
    envelope = login_envelope(citizen, nonce, openssl_dir=tmp_path)
    answer = post_json(http, "/auth/login", envelope)
    assert answer.status_code == 200, answer.body
    body = as_json(answer)
    assert body["token_type"] == "Bearer" and body["principal"]["role"] == "person"
    assert body["expires_in"] == 1800
    header = jwt.get_unverified_header(body["token"])
    assert header["alg"] == "ES256" and header["kid"]
    me = as_json(http.get("/me", headers={"Authorization": f"Bearer {body['token']}"}))
    assert me["role"] == "person"
    # The subject is the applicant key intake stores, never the identity number itself.
    assert me["subject"] == idnumbers.applicant_key("person", citizen.id_number, PEPPER)
    assert citizen.id_number not in json.dumps(body) + json.dumps(me)
    assert citizen.id_number not in base64.urlsafe_b64decode(
        body["token"].split(".")[1] + "==").decode()


def test_a_company_logs_in_as_an_organization(http, pki) -> None:
    headers = bearer_for(http, pki["company"], kind="organization")
    assert as_json(http.get("/me", headers=headers))["role"] == "organization"


def test_expired_revoked_untrusted_and_mismatched_certificates_are_refused(http, pki) -> None:
    for name, code in (("expired", "CERT_EXPIRED"), ("revoked", "CERT_REVOKED"),
                       ("untrusted", "CERT_UNTRUSTED"), ("no_usage", "CERT_USAGE")):
        answer = post_json(http, "/auth/login", login_envelope(pki[name], challenge(http)))
        assert answer.status_code == 401, (name, answer.body)
        error = as_json(answer)["error"]
        assert error["code"] == code
        assert error["message"].startswith("登录失败：") and error["message_en"]
    # Another person's number with my certificate: the identity binding fails.
    other = pki["ec_citizen"].id_number
    answer = post_json(http, "/auth/login",
                       login_envelope(pki["rsa_citizen"], challenge(http), ident=other))
    assert (answer.status_code, _error(answer)) == (401, "IDENTITY_MISMATCH")


def test_a_replayed_login_is_refused(http, pki) -> None:
    envelope = login_envelope(pki["ec_citizen"], challenge(http))
    assert post_json(http, "/auth/login", envelope).status_code == 200
    again = post_json(http, "/auth/login", envelope)
    assert again.status_code == 401
    error = as_json(again)["error"]
    assert error["code"] == "LOGIN_NONCE_USED" and "重放" in error["message"]


def test_a_nonce_the_platform_did_not_issue_or_that_expired_is_refused(http, pki) -> None:
    citizen = pki["ec_citizen"]
    wrong = post_json(http, "/auth/login", login_envelope(citizen, "x" * 32))
    assert (wrong.status_code, _error(wrong)) == (401, "LOGIN_NONCE_UNKNOWN")
    stale = "s" * 20 + datetime.now(UTC).strftime("%H%M%S%f")
    principals.issue_challenge(stale, now=datetime.now(UTC) - timedelta(minutes=10),
                               lifetime=login.CHALLENGE_LIFETIME)
    expired = post_json(http, "/auth/login", login_envelope(citizen, stale))
    assert (expired.status_code, _error(expired)) == (401, "LOGIN_NONCE_EXPIRED")


def test_a_signature_over_other_bytes_is_refused_and_burns_the_nonce(http, pki) -> None:
    citizen = pki["rsa_citizen"]
    nonce = challenge(http)
    envelope = login_envelope(citizen, nonce)
    other = login_envelope(citizen, challenge(http))
    forged = {"payload": envelope["payload"], "signature": other["signature"]}
    answer = post_json(http, "/auth/login", forged)
    assert (answer.status_code, _error(answer)) == (401, "SIGNATURE_INVALID")
    # Single use means single use: the honest envelope cannot use that nonce afterwards.
    assert _error(post_json(http, "/auth/login", envelope)) == "LOGIN_NONCE_USED"


def test_malformed_logins_answer_400_and_never_5xx(http, pki) -> None:
    citizen = pki["rsa_citizen"]
    cases = [
        b"not json",
        json.dumps({"payload": "!!", "signature": "AA=="}).encode(),
        json.dumps({"payload": base64.b64encode(b"[]").decode(), "signature": "AA=="}).encode(),
    ]
    for body in cases:
        answer = http.post("/auth/login", headers={"Content-Type": "application/json"}, body=body)
        assert answer.status_code == 400, answer.body
    bad_id = post_json(http, "/auth/login",
                       login_envelope(citizen, challenge(http), ident="110105194912310021"))
    assert bad_id.status_code == 400 and _error(bad_id).startswith("INVALID")
    bad_kind = post_json(http, "/auth/login",
                         login_envelope(citizen, challenge(http), kind="robot"))
    assert bad_kind.status_code == 400


def _add_staff(**kwargs: object) -> int:
    defaults = {"action": "add", "cert": None, "fingerprint": None, "identity": None,
                "department": None, "display": "", "email": None}
    return admin.principals_command(argparse.Namespace(**{**defaults, **kwargs}))


def test_staff_log_in_only_when_enrolled_by_certificate_or_identity(http, pki, settings) -> None:
    officer = pki["officer"]
    refused = post_json(http, "/auth/login", login_envelope(officer, challenge(http), kind="staff"))
    assert (refused.status_code, _error(refused)) == (403, "NOT_ENROLLED")

    assert _add_staff(role="officer", cert=officer.cert, department="ghj", display="赵六") == 0
    headers = bearer_for(http, officer, kind="staff")
    me = as_json(http.get("/me", headers=headers))
    assert (me["role"], me["department"], me["display"]) == ("officer", "ghj", "赵六")
    assert me["subject"].startswith("fp:")
    # The same person logging in as an applicant is a person, not an officer.
    assert as_json(http.get("/me", headers=bearer_for(http, officer)))["role"] == "person"

    # Enrolled by identity number instead: survives a new certificate, stores only an HMAC.
    assert principals.remove(me["subject"])
    assert _add_staff(role="supervisor", identity=officer.id_number, display="监察员") == 0
    listed = [e for e in principals.every() if e.role == "supervisor"]
    assert listed and all(officer.id_number not in e.principal for e in listed)
    supervisor = as_json(http.get("/me", headers=bearer_for(http, officer, kind="staff")))
    assert supervisor["role"] == "supervisor" and supervisor["subject"].startswith("id:")
    for enrolment in listed:
        principals.remove(enrolment.principal)


def test_a_token_for_one_applicant_never_reads_anothers_case(http, pki, settings) -> None:
    item = pilot(JOINT)
    mine = {"kind": "person", "id": pki["rsa_citizen"].id_number, "name": "张三"}
    theirs = {"kind": "person", "id": pki["ec_citizen"].id_number, "name": "李四"}
    my_case = accepted_case(settings, item, applicant=mine, now=datetime.now(UTC))
    their_case = accepted_case(settings, item, applicant=theirs, now=datetime.now(UTC))
    headers = bearer_for(http, pki["rsa_citizen"])

    listed = as_json(http.get("/me/applications", headers=headers))["items"]
    receipts = {a["receipt"] for a in listed}
    assert my_case in receipts and their_case not in receipts
    assert http.get(f"/me/applications/{my_case}", headers=headers).status_code == 200
    stolen = http.get(f"/me/applications/{their_case}", headers=headers)
    unknown = http.get("/me/applications/20260101XXXXXXXXXX", headers=headers)
    # The same answer as for a case that does not exist: nothing to enumerate.
    assert stolen.status_code == unknown.status_code == 404
    assert as_json(stolen) == as_json(unknown)
    assert http.get(f"/licences/L{their_case}", headers=headers).status_code == 404
    # A cursor made for someone else's listing is refused, not followed.
    forged = base64.urlsafe_b64encode(json.dumps(
        {"applicant_key": {"S": "someone"}, "receipt": {"S": their_case},
         "received_at": {"S": "2026-01-01T00:00:00.000000+0000"}}).encode()).decode()
    assert http.get(f"/me/applications?cursor={forged}", headers=headers).status_code == 400


def test_expired_and_tampered_tokens_are_refused(http, settings) -> None:
    person = Principal(Role.PERSON, "someone")
    old = minted(settings, person, now=datetime.now(UTC) - timedelta(hours=1))
    assert http.get("/me", headers=old).status_code == 401
    good = minted(settings, person)["Authorization"]
    head, claims, sig = good.split(" ")[1].split(".")
    forged_claims = base64.urlsafe_b64encode(json.dumps(
        {**json.loads(base64.urlsafe_b64decode(claims + "==")), "role": "admin"}).encode()
    ).decode().rstrip("=")
    forged = {"Authorization": f"Bearer {head}.{forged_claims}.{sig}"}
    assert http.get("/me", headers=forged).status_code == 401
    assert http.get("/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_the_signing_key_rotates_without_downtime(http, pki, settings) -> None:
    kms = boto3.client("kms", region_name=REGION)
    alias = settings.key_alias
    old_key = kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
    before = bearer_for(http, pki["rsa_citizen"])
    assert jwt.get_unverified_header(before["Authorization"][7:])["kid"] == old_key
    new_key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"][
        "KeyId"]
    try:
        kms.create_alias(AliasName=authz.previous_alias(alias), TargetKeyId=old_key)
        kms.update_alias(AliasName=alias, TargetKeyId=new_key)
        authz.key_ring.clear()  # what KEY_TTL does by itself within five minutes
        after = bearer_for(http, pki["rsa_citizen"])
        assert jwt.get_unverified_header(after["Authorization"][7:])["kid"] == new_key
        # Tokens from before the rotation and after it are both accepted.
        assert http.get("/me", headers=before).status_code == 200
        assert http.get("/me", headers=after).status_code == 200
        # Once the old key is retired (the previous alias removed), its tokens stop working.
        kms.delete_alias(AliasName=authz.previous_alias(alias))
        authz.key_ring.clear()
        assert http.get("/me", headers=before).status_code == 401
        assert http.get("/me", headers=after).status_code == 200
    finally:
        kms.update_alias(AliasName=alias, TargetKeyId=old_key)
        with contextlib.suppress(kms.exceptions.NotFoundException):
            kms.delete_alias(AliasName=authz.previous_alias(alias))
        authz.key_ring.clear()
