"""parse_envelope_signature: the intake's cheap structural check."""

from __future__ import annotations

import subprocess

import pytest
from asn1crypto import cms

from chalicelib.signature import MalformedSignature, parse_envelope_signature
from tests.unit.signature.conftest import PAYLOAD


def test_exposes_the_signer_certificate(corpus):
    for case in corpus:
        parsed = parse_envelope_signature(case.signature)
        assert parsed.signer_certificate is not None
        assert parsed.signer_certificate in parsed.certificates


@pytest.mark.parametrize("data", [b"", b"\x30\x03\x02\x01\x01", b"\x00" * 10, "text",
                                  b"\x30\x80\x00\x00"])
def test_garbage_is_malformed(data):
    with pytest.raises(MalformedSignature):
        parse_envelope_signature(data)  # type: ignore[arg-type]


def test_trailing_bytes_are_malformed(corpus):
    with pytest.raises(MalformedSignature):
        parse_envelope_signature(corpus[0].signature + b"\x00")


def test_attached_content_is_malformed(pki, tmp_path):
    identity = pki["ec_citizen"]
    (tmp_path / "p").write_bytes(PAYLOAD)
    attached = subprocess.run(
        ["openssl", "cms", "-sign", "-binary", "-nodetach", "-in", tmp_path / "p", "-signer",
         identity.cert, "-inkey", identity.key, "-outform", "DER"],
        check=True, capture_output=True).stdout
    with pytest.raises(MalformedSignature, match="detached"):
        parse_envelope_signature(attached)


def test_two_signers_are_malformed(pki, tmp_path):
    one, two = pki["ec_citizen"], pki["officer"]
    (tmp_path / "p").write_bytes(PAYLOAD)
    signed = subprocess.run(
        ["openssl", "cms", "-sign", "-binary", "-in", tmp_path / "p", "-signer", one.cert,
         "-inkey", one.key, "-signer", two.cert, "-inkey", two.key, "-outform", "DER"],
        check=True, capture_output=True).stdout
    with pytest.raises(MalformedSignature, match="one signer"):
        parse_envelope_signature(signed)


def test_no_certificates_means_no_signer_certificate(pki, tmp_path):
    identity = pki["ec_citizen"]
    (tmp_path / "p").write_bytes(PAYLOAD)
    bare = subprocess.run(
        ["openssl", "cms", "-sign", "-binary", "-nocerts", "-in", tmp_path / "p", "-signer",
         identity.cert, "-inkey", identity.key, "-outform", "DER"],
        check=True, capture_output=True).stdout
    parsed = parse_envelope_signature(bare)
    assert parsed.signer_certificate is None and parsed.certificates == ()


def test_missing_signer_certificate_is_malformed_in_verify(pki, tmp_path, trust, now):
    from chalicelib.contract import Reason
    from chalicelib.signature import verify_detached

    identity = pki["ec_citizen"]
    (tmp_path / "p").write_bytes(PAYLOAD)
    bare = subprocess.run(
        ["openssl", "cms", "-sign", "-binary", "-nocerts", "-in", tmp_path / "p", "-signer",
         identity.cert, "-inkey", identity.key, "-outform", "DER"],
        check=True, capture_output=True).stdout
    verdict = verify_detached(PAYLOAD, bare, trust, now=now, applicant_id=identity.id_number)
    assert verdict.reason is Reason.MALFORMED


def test_other_content_types_are_malformed(corpus):
    info = cms.ContentInfo({"content_type": "data", "content": b"x"})
    with pytest.raises(MalformedSignature, match="SignedData"):
        parse_envelope_signature(info.dump())


def test_signing_time_and_algorithms(corpus):
    case = next(c for c in corpus if c.label == "rsa_citizen/pss-sha512")
    parsed = parse_envelope_signature(case.signature)
    assert parsed.signing_time is not None and parsed.signing_time.tzinfo is not None
    assert (parsed.digest_name, parsed.signature_name) == ("sha512", "rsassa_pss")
    assert parsed.pss_parameters is not None
