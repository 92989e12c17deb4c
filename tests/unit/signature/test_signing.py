"""tools.signing: what the citizens' client signs with."""

from __future__ import annotations

import subprocess

import pytest

from chalicelib.signature import parse_envelope_signature, verify_detached
from tests.unit.signature.conftest import PAYLOAD
from tools.pki import P12_PASSWORD
from tools.signing import load_pkcs12, sign_detached


@pytest.mark.parametrize("name", ["rsa_citizen", "ec_citizen", "ec384_citizen"])
@pytest.mark.parametrize("attrs", [True, False])
def test_rsa_ec_signatures_verify_with_openssl(pki, tmp_path, name, attrs):
    identity = pki[name]
    signature = sign_detached(PAYLOAD, identity.cert_pem(), identity.key_pem(),
                              identity.chain_pems(), signed_attributes=attrs)
    (tmp_path / "sig.der").write_bytes(signature)
    (tmp_path / "payload").write_bytes(PAYLOAD)
    result = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "sig.der",
         "-content", tmp_path / "payload", "-CAfile", pki.root, "-purpose", "any",
         "-out", "/dev/null"], check=False, capture_output=True)
    assert result.returncode == 0, result.stderr
    parsed = parse_envelope_signature(signature)
    assert parsed.signed_attributes is attrs and parsed.wrapper == "pkcs7"
    assert len(parsed.certificates) == 2


def test_rsa_pss_and_digest_options(pki, trust, now):
    identity = pki["rsa_citizen"]
    signature = sign_detached(PAYLOAD, identity.cert_pem(), identity.key_pem(),
                              identity.chain_pems(), digest="sha512", rsa_pss=True)
    parsed = parse_envelope_signature(signature)
    assert (parsed.digest_name, parsed.signature_name) == ("sha512", "rsassa_pss")
    assert verify_detached(PAYLOAD, signature, trust, now=now,
                           applicant_id=identity.id_number).valid


@pytest.mark.parametrize("wrapper", ["pkcs7", "gmt0010"])
def test_sm2_wrappers(pki, wrapper):
    identity = pki["sm2_citizen"]
    parsed = parse_envelope_signature(sign_detached(
        PAYLOAD, identity.cert_pem(), identity.key_pem(), identity.chain_pems(),
        wrapper=wrapper))
    assert parsed.wrapper == wrapper and parsed.digest_name == "sm3"
    assert parsed.content_type == ("1.2.840.113549.1.7.1" if wrapper == "pkcs7"
                                   else "1.2.156.10197.6.1.4.2.1")
    assert parsed.signature_name == ("sm2_sm3" if wrapper == "pkcs7" else "sm2_sign")


def test_gmt0010_needs_sm2(pki):
    identity = pki["ec_citizen"]
    with pytest.raises(ValueError, match="SM2"):
        sign_detached(PAYLOAD, identity.cert_pem(), identity.key_pem(), wrapper="gmt0010")


def test_load_pkcs12(pki, trust, now):
    identity = pki["rsa_citizen"]
    assert identity.p12 is not None
    cert, key, chain = load_pkcs12(identity.p12.read_bytes(), P12_PASSWORD.encode())
    assert cert.startswith(b"-----BEGIN CERTIFICATE-----") and b"PRIVATE KEY" in key
    assert len(chain) == 1
    signature = sign_detached(PAYLOAD, cert, key, chain)
    assert verify_detached(PAYLOAD, signature, trust, now=now,
                           applicant_id=identity.id_number).valid
    with pytest.raises(ValueError):
        load_pkcs12(identity.p12.read_bytes(), b"wrong")
