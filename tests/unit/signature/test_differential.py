"""Differential: on the same corpus, valid/invalid agrees with openssl and with pyHanko.

openssl (``cms -verify``) and pyHanko (``async_validate_detached_cms``) do not know SM2/GM/T
0010 nor our identity binding, so the comparison covers RSA/EC signatures with the right
applicant, and compares the valid/invalid classification (their error vocabularies differ).
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms, pem
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.sign.validation import async_validate_detached_cms
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from chalicelib.contract import Reason
from chalicelib.signature import verify_detached


@pytest.fixture(scope="module")
def openssl_ca_file(pki, tmp_path_factory) -> Path:
    """The root with both CRLs (openssl cms reads CRLs from the CA file)."""
    path = tmp_path_factory.mktemp("openssl") / "ca-with-crls.pem"
    crls = b"".join(x509.load_der_x509_crl(p.read_bytes()).public_bytes(Encoding.PEM)
                    for p in (pki.root_crl, pki.intermediate_crl))
    path.write_bytes(pki.root.read_bytes() + crls)
    return path


def openssl_accepts(case, pki, ca_file: Path, now, tmp: Path, *purpose: str) -> bool:
    (tmp / "sig.der").write_bytes(case.signature)
    (tmp / "payload").write_bytes(case.payload)
    result = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp / "sig.der",
         "-content", tmp / "payload", "-CAfile", ca_file, "-certfile", pki.intermediate,
         *purpose, "-crl_check_all", "-attime", str(int(now.timestamp())), "-out", "/dev/null"],
        check=False, capture_output=True)
    return result.returncode == 0


def test_agrees_with_openssl_cms_verify(corpus, pki, trust, now, openssl_ca_file, tmp_path):
    disagreements = []
    # openssl 3.0's cms -verify takes intermediates only from the CMS (-certfile does not
    # feed path building), so a signature without its chain is ours and pyHanko's to judge.
    for case in (c for c in corpus if c.openssl and not c.label.endswith("no-chain")):
        ours = verify_detached(case.payload, case.signature, trust, now=now,
                               applicant_id=case.identity.id_number)
        # -purpose any: openssl checks no key usage, so only CERT_USAGE may differ.
        theirs_any = openssl_accepts(case, pki, openssl_ca_file, now, tmp_path,
                                     "-purpose", "any")
        expected_any = ours.valid or ours.reason is Reason.CERT_USAGE
        # The default purpose (smimesign) checks key usage and EKU as we do.
        theirs_smime = openssl_accepts(case, pki, openssl_ca_file, now, tmp_path)
        if theirs_any != expected_any or theirs_smime != ours.valid:
            disagreements.append((case.label, ours.reason, theirs_any, theirs_smime))
    assert not disagreements


def test_openssl_agrees_on_tampered_payload(corpus, pki, trust, now, openssl_ca_file,
                                            tmp_path):
    from dataclasses import replace

    for label in ("rsa_citizen/attrs", "ec_citizen/noattr"):
        case = next(c for c in corpus if c.label == label)
        tampered = replace(case, payload=case.payload.replace(b"n-1", b"n-2"))
        ours = verify_detached(tampered.payload, tampered.signature, trust, now=now,
                               applicant_id=case.identity.id_number)
        assert ours.reason is Reason.SIGNATURE_INVALID
        assert not openssl_accepts(tampered, pki, openssl_ca_file, now, tmp_path,
                                   "-purpose", "any")


def _pyhanko_context(pki, now) -> ValidationContext:
    return ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(pem.unarmor(pki.root.read_bytes())[2])],
        other_certs=[asn1_x509.Certificate.load(pem.unarmor(pki.intermediate.read_bytes())[2])],
        crls=[asn1_crl.CertificateList.load(p.read_bytes())
              for p in (pki.root_crl, pki.intermediate_crl)],
        allow_fetching=False, moment=now,
        # pyHanko's "hard-fail" only checks certificates that declare a CRL distribution
        # point; ours declare none and must be checked anyway, as we do: CRLs required.
        revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(
            ee_certificate_rule=RevocationCheckingRule.CRL_REQUIRED,
            intermediate_ca_cert_rule=RevocationCheckingRule.CRL_REQUIRED)))


def test_agrees_with_pyhanko(corpus, pki, trust, now):
    usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"},
                                match_all_key_usages=False)

    async def pyhanko_accepts(case) -> bool:
        signed_data = cms.ContentInfo.load(case.signature)["content"]
        status = await async_validate_detached_cms(
            case.payload, signed_data, signer_validation_context=_pyhanko_context(pki, now),
            key_usage_settings=usage)
        return bool(status.bottom_line)

    async def run_all():
        return [(case, await pyhanko_accepts(case)) for case in corpus if case.openssl]

    disagreements = []
    for case, theirs in asyncio.run(run_all()):
        ours = verify_detached(case.payload, case.signature, trust, now=now,
                               applicant_id=case.identity.id_number)
        if ours.valid != theirs:
            disagreements.append((case.label, ours.reason, theirs))
    assert not disagreements
