"""Path rules on hand-made chains: CA constraints, critical extensions, EKU, policy knobs.

The chains are built with cryptography's certificate builder (quick, in memory); the
signatures with tools.signing. No CRLs: where revocation would be the only problem, the
policy turns its check off, which also shows the knob works.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chalicelib.contract import Reason
from chalicelib.signature import TrustStore, VerifyPolicy, verify_detached
from tests.unit.signature.conftest import PAYLOAD
from tools.signing import sign_detached

ID = "11010519491231002X"
NO_CRL = VerifyPolicy(require_revocation=False)


def _name(cn: str, serial: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if serial:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    return x509.Name(attributes)


def _cert(subject: x509.Name, key, issuer_name: x509.Name, issuer_key, now: datetime, *,
          ca: bool, path_length: int | None = None, key_cert_sign: bool = True,
          extra: list[tuple[x509.ExtensionType, bool]] = ()) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1))
               .not_valid_after(now + timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), True)
               .add_extension(x509.KeyUsage(
                   digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                   data_encipherment=False, key_agreement=False,
                   key_cert_sign=ca and key_cert_sign, crl_sign=ca, encipher_only=False,
                   decipher_only=False), True))
    for extension, critical in extra:
        builder = builder.add_extension(extension, critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class Chain:
    """root -> CA(s) -> leaf, each CA's settings given per level."""

    def __init__(self, now: datetime, cas: list[dict], leaf: dict | None = None) -> None:
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = _cert(_name("Test Root"), self.root_key, _name("Test Root"),
                          self.root_key, now, ca=True)
        issuer, issuer_key = self.root, self.root_key
        self.cas: list[x509.Certificate] = []
        for index, settings in enumerate(cas):
            key = ec.generate_private_key(ec.SECP256R1())
            cert = _cert(_name(f"Test CA {index}"), key, issuer.subject, issuer_key, now,
                         **{"ca": True, **settings})
            self.cas.append(cert)
            issuer, issuer_key = cert, key
        self.leaf_key = ec.generate_private_key(ec.SECP256R1())
        self.leaf = _cert(_name("Signer", ID), self.leaf_key, issuer.subject, issuer_key, now,
                          **{"ca": False, **(leaf or {})})

    def verify(self, now: datetime, policy: VerifyPolicy = NO_CRL):
        signature = sign_detached(PAYLOAD, _pem(self.leaf), _key_pem(self.leaf_key),
                                  [_pem(c) for c in reversed(self.cas)])
        trust = TrustStore.from_objects({"roots/test.pem": _pem(self.root)})
        return verify_detached(PAYLOAD, signature, trust, now=now, applicant_id=ID,
                               policy=policy)


@pytest.fixture(scope="module")
def moment() -> datetime:
    return datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=8)))


def test_control_chain_is_valid(moment):
    chain = Chain(moment, [{"path_length": 0}])
    assert chain.verify(moment).valid
    assert chain.verify(moment, VerifyPolicy()).reason is Reason.REVOCATION_UNKNOWN


def test_issuer_without_ca_flag(moment):
    assert Chain(moment, [{"ca": False}]).verify(moment).reason is Reason.CERT_UNTRUSTED


def test_ca_without_key_cert_sign(moment):
    chain = Chain(moment, [{"key_cert_sign": False}])
    assert chain.verify(moment).reason is Reason.CERT_UNTRUSTED


def test_path_length_exceeded(moment):
    assert Chain(moment, [{"path_length": 0}, {}]).verify(moment).reason is \
        Reason.CERT_UNTRUSTED
    assert Chain(moment, [{"path_length": 1}, {}]).verify(moment).valid


def test_unknown_critical_extension(moment):
    odd = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00")
    chain = Chain(moment, [{}], {"extra": [(odd, True)]})
    assert chain.verify(moment).reason is Reason.CERT_UNTRUSTED
    relaxed = Chain(moment, [{}], {"extra": [(odd, False)]})
    assert relaxed.verify(moment).valid


def test_signer_eku_must_allow_signing(moment):
    code_only = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING])
    chain = Chain(moment, [{}], {"extra": [(code_only, False)]})
    assert chain.verify(moment).reason is Reason.CERT_USAGE
    document = x509.ExtendedKeyUsage([x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")])
    assert Chain(moment, [{}], {"extra": [(document, False)]}).verify(moment).valid


def test_signer_that_is_a_ca(moment):
    assert Chain(moment, [{}], {"ca": True}).verify(moment).reason is Reason.CERT_USAGE


def test_policy_digest_and_curve(moment):
    chain = Chain(moment, [{}])
    sha256_only = VerifyPolicy(require_revocation=False, digest_algorithms=frozenset({"sha512"}))
    assert chain.verify(moment, sha256_only).reason is Reason.SIGNATURE_INVALID
    no_p256 = VerifyPolicy(require_revocation=False, ec_curves=frozenset({"secp384r1"}))
    assert chain.verify(moment, no_p256).reason is Reason.SIGNATURE_INVALID


def test_policy_min_rsa_bits(pki, trust, now):
    identity = pki["rsa_citizen"]
    signature = sign_detached(PAYLOAD, identity.cert_pem(), identity.key_pem(),
                              identity.chain_pems())
    strict = VerifyPolicy(min_rsa_bits=3072)
    verdict = verify_detached(PAYLOAD, signature, trust, now=now,
                              applicant_id=identity.id_number, policy=strict)
    assert verdict.reason is Reason.SIGNATURE_INVALID
