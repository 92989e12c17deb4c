"""verify_detached: one reason code per identity and variant, in the contract's precedence."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.contract import Reason
from chalicelib.signature import CaRule, TrustStore, Verdict, verify_detached
from chalicelib.signature.oids import EKU_DOCUMENT_SIGNING
from tests.unit.signature.conftest import PAYLOAD, Case
from tools.signing import sign_detached


def verify(case_or_sig: Case | bytes, trust: TrustStore, now, applicant_id: str,
           payload: bytes = PAYLOAD, **kwargs) -> Verdict:
    signature = case_or_sig.signature if isinstance(case_or_sig, Case) else case_or_sig
    return verify_detached(payload, signature, trust, now=now, applicant_id=applicant_id,
                           **kwargs)


def test_every_corpus_case_gets_its_reason(corpus, trust, now):
    wrong = {}
    for case in corpus:
        verdict = verify(case, trust, now, case.identity.id_number)
        if verdict.reason is not case.expected:
            wrong[case.label] = (verdict.reason, verdict.report.get("message"))
    assert not wrong
    assert len(corpus) >= 35


def test_valid_verdict_and_report(corpus, trust, now):
    case = next(c for c in corpus if c.label == "rsa_citizen/attrs")
    verdict = verify(case, trust, now, case.identity.id_number)
    assert verdict.valid and not verdict.indeterminate
    report = json.loads(json.dumps(verdict.report))  # JSON-serialisable as it is
    assert report["indication"] == "TOTAL_PASSED" and report["sub_indication"] is None
    assert report["signature"]["digest_algorithm"] == "sha256"
    assert report["signature"]["signature_algorithm"] == "rsa_pkcs1v15"
    assert report["signature"]["signed_attributes"] is True
    assert report["signature"]["signing_time"]
    assert report["signer"]["sha256"] == verdict.signer_fingerprint
    assert f"serialNumber={case.identity.id_number}" in report["signer"]["subject"]
    assert [link["trust_anchor"] for link in report["chain"]] == [False, False, True]
    assert report["chain"][-1]["subject"].startswith("CN=Onestop Demo Root CA")
    assert [r["status"] for r in report["revocation"]] == ["good", "good"]
    assert all(r["crl"]["crl_number"] == 1 and r["crl"]["next_update"]
               for r in report["revocation"])
    assert report["validation_time"] == now.isoformat()
    assert report["libraries"]["cryptography"]


def test_failed_and_indeterminate_indications(corpus, pki, now):
    case = next(c for c in corpus if c.label == "revoked/attrs")
    verdict = verify(case, TrustStore.from_objects(pki.trust_objects()), now,
                     case.identity.id_number)
    assert verdict.report["indication"] == "TOTAL_FAILED"
    assert verdict.report["sub_indication"] == "CERT_REVOKED"
    revoked = verdict.report["revocation"][0]
    assert revoked["status"] == "revoked" and revoked["revocation_reason"] == "keyCompromise"


@pytest.mark.parametrize("objects", ["no-crls", "stale"])
def test_revocation_unknown_is_indeterminate(corpus, pki, now, objects):
    case = next(c for c in corpus if c.label == "ec_citizen/attrs")
    if objects == "no-crls":
        trust, at = TrustStore.from_objects(pki.trust_objects(crls=False)), now
    else:
        trust, at = TrustStore.from_objects(pki.trust_objects()), \
            pki.crl_next_update + timedelta(days=1)
    verdict = verify(case, trust, at, case.identity.id_number)
    assert verdict.reason is Reason.REVOCATION_UNKNOWN
    assert verdict.indeterminate
    assert verdict.report["indication"] == "INDETERMINATE"


def test_crl_signed_by_someone_else_is_not_used(corpus, pki, now):
    objects = pki.trust_objects()
    # The SM2 CA's CRL renamed as the citizen CA's: wrong issuer, so no usable CRL.
    objects["crls/onestop-citizen-ca.crl"] = pki.sm2_intermediate_crl.read_bytes()
    case = next(c for c in corpus if c.label == "revoked/attrs")
    verdict = verify(case, TrustStore.from_objects(objects), now, case.identity.id_number)
    assert verdict.reason is Reason.REVOCATION_UNKNOWN


def test_identity_binding(corpus, trust, now):
    case = next(c for c in corpus if c.label == "rsa_citizen/attrs")
    assert case.identity.id_number.endswith("X")
    assert verify(case, trust, now, case.identity.id_number.lower()).valid
    assert verify(case, trust, now, " " + case.identity.id_number + " ").valid
    verdict = verify(case, trust, now, "110105194912310037")
    assert verdict.reason is Reason.IDENTITY_MISMATCH
    assert "110105194912310037" not in json.dumps(verdict.report)


def test_company_binds_its_social_credit_code(corpus, trust, now, pki):
    case = next(c for c in corpus if c.label == "company/attrs")
    assert len(pki["company"].id_number) == 18
    assert verify(case, trust, now, pki["company"].id_number).valid
    assert verify(case, trust, now, pki["officer"].id_number).reason is Reason.IDENTITY_MISMATCH


def test_path_problems_outrank_identity_mismatch(corpus, trust, now):
    case = next(c for c in corpus if c.label == "expired/attrs")
    assert verify(case, trust, now, "someone else").reason is Reason.CERT_EXPIRED


def test_intermediate_from_the_store_when_not_in_the_signature(corpus, pki, now):
    case = next(c for c in corpus if c.label == "rsa_citizen/no-chain")
    assert verify(case, TrustStore.from_objects(pki.trust_objects()), now,
                  case.identity.id_number).valid
    without = {k: v for k, v in pki.trust_objects().items()
               if not k.startswith("intermediates/")}
    verdict = verify(case, TrustStore.from_objects(without), now, case.identity.id_number)
    assert verdict.reason is Reason.CERT_UNTRUSTED


def test_intermediate_from_the_signature_when_not_in_the_store(corpus, pki, now):
    case = next(c for c in corpus if c.label == "rsa_citizen/attrs")
    without = {k: v for k, v in pki.trust_objects().items()
               if not k.startswith("intermediates/")}
    assert verify(case, TrustStore.from_objects(without), now, case.identity.id_number).valid


def test_untrusted_root_becomes_trusted_when_added(corpus, pki, now):
    case = next(c for c in corpus if c.label == "untrusted/attrs")
    objects = pki.trust_objects() | {"roots/rogue.pem": pki.untrusted_root.read_bytes()}
    verdict = verify(case, TrustStore.from_objects(objects), now, case.identity.id_number)
    assert verdict.reason is Reason.REVOCATION_UNKNOWN  # no CRL from that root


def test_claimed_signing_time_is_checked_against_validity(corpus, trust, now, pki):
    case = next(c for c in corpus if c.label == "ec_citizen/noattr")
    identity = case.identity
    assert verify(case, trust, now, identity.id_number, signed_at=now).valid
    before = pki.reference_time - timedelta(days=400)
    assert verify(case, trust, now, identity.id_number,
                  signed_at=before).reason is Reason.CERT_NOT_YET_VALID
    after = pki.reference_time + timedelta(days=6 * 365)
    assert verify(case, trust, now, identity.id_number,
                  signed_at=after).reason is Reason.CERT_EXPIRED


def test_naive_times_are_utc(corpus, trust, now):
    case = next(c for c in corpus if c.label == "ec_citizen/attrs")
    naive = now.replace(tzinfo=None)
    assert verify(case, trust, naive, case.identity.id_number, signed_at=naive).valid


def test_ca_rule_cn_pattern(corpus, pki, now):
    case = next(c for c in corpus if c.label == "officer/attrs")
    rules = {"intermediates/onestop-citizen-ca.pem": CaRule(identity_cn_pattern=r"(.)(?P<id>.)")}
    trust = TrustStore.from_objects(pki.trust_objects(), rules)
    assert not trust.problems
    assert verify(case, trust, now, "六").valid  # the officer's CN is 赵六
    assert verify(case, trust, now, case.identity.id_number).reason is Reason.IDENTITY_MISMATCH


def test_ca_rule_by_fingerprint_and_extension(corpus, pki, now):
    case = next(c for c in corpus if c.label == "rsa_citizen/attrs")
    root = next(iter(TrustStore.from_objects(pki.trust_objects()).anchors))
    rules = {root.fingerprint.upper(): CaRule(identity_extension="1.2.156.10260.4.1.1")}
    trust = TrustStore.from_objects(pki.trust_objects(), rules)
    verdict = verify(case, trust, now, case.identity.id_number)
    assert verdict.reason is Reason.IDENTITY_MISMATCH  # the demo certs have no such extension


def test_ca_rule_signing_ekus(corpus, pki, now):
    case = next(c for c in corpus if c.label == "rsa_citizen/attrs")
    rules = {"roots/onestop-root.pem": CaRule(signing_ekus=frozenset({EKU_DOCUMENT_SIGNING}))}
    trust = TrustStore.from_objects(pki.trust_objects(), rules)
    assert verify(case, trust, now, case.identity.id_number).reason is Reason.CERT_USAGE


def test_ca_rule_sm2_signer_id(pki, now):
    identity = pki["sm2_citizen"]
    signer_id = b"ALICE123@YAHOO.COM"
    signature = sign_detached(PAYLOAD, identity.cert_pem(), identity.key_pem(),
                              identity.chain_pems(), sm2_signer_id=signer_id)
    default = TrustStore.from_objects(pki.trust_objects())
    assert verify(signature, default, now, identity.id_number).reason is \
        Reason.SIGNATURE_INVALID
    rules = {"intermediates/onestop-sm2-ca.pem": CaRule(sm2_signer_id=signer_id)}
    custom = TrustStore.from_objects(pki.trust_objects(), rules)
    assert verify(signature, custom, now, identity.id_number).valid


def test_unknown_ca_rule_is_reported(pki):
    trust = TrustStore.from_objects(pki.trust_objects(), {"roots/nope.pem": CaRule()})
    assert trust.problems == (("roots/nope.pem", "CA rule matches no certificate in the store"),)


def test_bad_trust_objects_are_skipped_and_reported(pki):
    objects = pki.trust_objects() | {"roots/garbage.pem": b"-----BEGIN CERTIFICATE-----\nAAAA\n"
                                     b"-----END CERTIFICATE-----\n", "crls/empty.crl": b"",
                                     "other/ignored": b"x"}
    trust = TrustStore.from_objects(objects)
    assert {key for key, _ in trust.problems} == {"roots/garbage.pem", "crls/empty.crl"}
    assert len(trust.anchors) == 2


def test_pem_bundle_and_der_objects(pki, corpus, now):
    bundle = pki.root.read_bytes() + pki.sm2_root.read_bytes()
    objects = {"roots/bundle.pem": bundle,
               "intermediates/ca.der": _der(pki.intermediate.read_bytes()),
               "crls/ca.crl": pki.intermediate_crl.read_bytes(),
               "crls/root.crl": pki.root_crl.read_bytes()}
    trust = TrustStore.from_objects(objects)
    assert len(trust.anchors) == 2 and not trust.problems
    case = next(c for c in corpus if c.label == "rsa_citizen/no-chain")
    assert verify(case, trust, now, case.identity.id_number).valid


def _der(pem: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


@pytest.mark.parametrize("label", ["rsa_citizen/attrs", "rsa_citizen/noattr",
                                   "ec_citizen/attrs", "rsa_citizen/pss-sha384",
                                   "sm2_citizen/gmt0010", "sm2_citizen/pkcs7-noattr"])
def test_one_byte_of_payload_changed(corpus, trust, now, label):
    case = next(c for c in corpus if c.label == label)
    for index in (0, len(PAYLOAD) // 2, len(PAYLOAD) - 1):
        tampered = bytearray(PAYLOAD)
        tampered[index] ^= 0x01
        verdict = verify(case, trust, now, case.identity.id_number, payload=bytes(tampered))
        assert verdict.reason is Reason.SIGNATURE_INVALID
    assert verify(case, trust, now, case.identity.id_number, payload=PAYLOAD + b" ").reason \
        is Reason.SIGNATURE_INVALID


@pytest.mark.parametrize("label", ["rsa_citizen/attrs", "ec_citizen/noattr",
                                   "sm2_citizen/gmt0010"])
def test_one_byte_of_the_signature_value_changed(corpus, trust, now, label):
    from chalicelib.signature import parse_envelope_signature

    case = next(c for c in corpus if c.label == label)
    value = parse_envelope_signature(case.signature).signature_value
    start = case.signature.rindex(value)
    for offset in (0, len(value) // 2, len(value) - 1):
        tampered = bytearray(case.signature)
        tampered[start + offset] ^= 0x40
        verdict = verify(bytes(tampered), trust, now, case.identity.id_number)
        assert verdict.reason in (Reason.SIGNATURE_INVALID, Reason.MALFORMED)


def test_every_single_byte_flip_is_caught_or_harmless(corpus, trust, now):
    """Flip each byte in turn: either the verdict fails, or what was signed is unchanged.

    "Unchanged" is about signed content: a flip can leave an equivalent encoding (the
    unused-bits count of a certificate's signature BIT STRING, say) that still verifies.
    """
    from cryptography import x509

    from chalicelib.signature import MalformedSignature, parse_envelope_signature

    def signed_material(signature: bytes) -> tuple[bytes, bytes, bytes | None, str]:
        parsed = parse_envelope_signature(signature)
        assert parsed.signer_certificate is not None
        tbs = x509.load_der_x509_certificate(parsed.signer_certificate).tbs_certificate_bytes
        return (tbs, parsed.signature_value, parsed.signed_attributes_der,
                parsed.digest_algorithm)

    case = next(c for c in corpus if c.label == "ec_citizen/attrs")
    original = signed_material(case.signature)
    for index in range(len(case.signature)):
        tampered = bytearray(case.signature)
        tampered[index] ^= 0x01
        verdict = verify(bytes(tampered), trust, now, case.identity.id_number)
        if verdict.reason is None:
            try:
                assert signed_material(bytes(tampered)) == original, index
            except MalformedSignature:  # pragma: no cover - it verified, so it parsed
                pytest.fail(f"byte {index}: verified but does not parse")


def test_wrong_key_for_certificate(pki, trust, now):
    ec, other = pki["ec_citizen"], pki["officer"]
    signature = sign_detached(PAYLOAD, ec.cert_pem(), other.key_pem(), ec.chain_pems())
    assert verify(signature, trust, now, ec.id_number).reason is Reason.SIGNATURE_INVALID
