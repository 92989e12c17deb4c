"""SM2/SM3 with signer IDs, checked against openssl's own implementation (pkeyutl distid)."""

from __future__ import annotations

import subprocess

import pytest

from chalicelib.signature import sm2
from chalicelib.signature.certs import CertInfo

MESSAGE = b"SM2 signer ID check"


def _openssl(*args, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *map(str, args)], input=data, capture_output=True,
                          check=False)


@pytest.fixture(scope="module")
def sm2_key(pki):
    identity = pki["sm2_citizen"]
    cert = CertInfo(_der(identity.cert_pem()))
    return identity, cert.public_key, sm2.load_private_key(identity.key_pem())


def _der(pem: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


@pytest.mark.parametrize("signer_id", [b"1234567812345678", b"ALICE123@YAHOO.COM", b""])
def test_openssl_signature_verifies_here(sm2_key, tmp_path, signer_id):
    identity, public, _ = sm2_key
    (tmp_path / "m").write_bytes(MESSAGE)
    signed = _openssl("pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", identity.key,
                      "-in", tmp_path / "m", "-pkeyopt", f"distid:{signer_id.decode()}")
    assert signed.returncode == 0, signed.stderr
    assert sm2.verify(public, signed.stdout, MESSAGE, signer_id)
    assert not sm2.verify(public, signed.stdout, MESSAGE, signer_id + b"x")
    assert not sm2.verify(public, signed.stdout, MESSAGE + b"x", signer_id)


@pytest.mark.parametrize("signer_id", [b"1234567812345678", b"ALICE123@YAHOO.COM"])
def test_signature_made_here_verifies_with_openssl(sm2_key, tmp_path, signer_id):
    identity, _, private = sm2_key
    (tmp_path / "m").write_bytes(MESSAGE)
    (tmp_path / "sig").write_bytes(sm2.sign(private, MESSAGE, signer_id))
    public_pem = _openssl("x509", "-in", identity.cert, "-pubkey", "-noout").stdout
    (tmp_path / "pub.pem").write_bytes(public_pem)
    checked = _openssl("pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey",
                       tmp_path / "pub.pem", "-in", tmp_path / "m", "-sigfile", tmp_path / "sig",
                       "-pkeyopt", f"distid:{signer_id.decode()}")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_garbage_signature_is_just_invalid(sm2_key):
    _, public, _ = sm2_key
    for garbage in (b"", b"\x30\x00", b"\x00" * 72):
        assert not sm2.verify(public, garbage, MESSAGE)
        assert not sm2.verify(public, garbage, MESSAGE, b"other")


def test_non_sm2_keys_are_refused(pki):
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    ec_cert = CertInfo(_der(pki["ec_citizen"].cert_pem()))
    spki = ec_cert.public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ValueError):
        sm2.load_public_key(spki)
