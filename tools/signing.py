"""Sign an application payload the way the contract expects: detached CMS SignedData (DER).

For RSA and EC keys this is cryptography's PKCS#7 builder, which makes the same structure as
``openssl cms -sign -binary -outform DER`` (``-noattr`` when ``signed_attributes`` is False).
cryptography has no SM2, so SM2/SM3 signatures are assembled here from asn1crypto structures
and signed with tongsuopy, in the PKCS#7 wrapper or the GM/T 0010 one. The citizens'
command-line client (``tools/client.py``) imports this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar, Literal

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from chalicelib.signature import oids, sm2

Wrapper = Literal["pkcs7", "gmt0010"]
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}


def sign_detached(payload: bytes, cert_pem: bytes, key_pem: bytes,
                  chain_pems: Sequence[bytes] = (), *, signed_attributes: bool = True,
                  wrapper: Wrapper = "pkcs7", digest: str = "sha256", rsa_pss: bool = False,
                  sm2_signer_id: bytes = sm2.DEFAULT_SIGNER_ID,
                  signing_time: datetime | None = None, password: bytes | None = None) -> bytes:
    """A DER CMS SignedData, detached, over exactly ``payload``.

    Parameters
    ----------
    payload
        The bytes to sign (they are not embedded).
    cert_pem, key_pem
        The signer's certificate and private key (PEM; ``password`` if the key is
        encrypted). The key decides the algorithm: RSA, EC (P-256/P-384/P-521) or SM2.
    chain_pems
        Intermediate certificates to carry in the CMS (PEM, one or more per item).
    signed_attributes
        With contentType, signingTime and messageDigest (and, for RSA/EC,
        SMIMECapabilities, as openssl adds) when True; the bare signature when False.
    wrapper
        ``pkcs7`` (OIDs 1.2.840.113549.1.7.*) or ``gmt0010`` (1.2.156.10197.6.1.4.2.*,
        SM2 keys only).
    digest
        ``sha256``, ``sha384`` or ``sha512`` for RSA/EC; SM2 always uses SM3.
    rsa_pss
        RSASSA-PSS (MGF1 with the same hash, salt as long as the hash) instead of PKCS#1 v1.5.
    sm2_signer_id
        The SM2 signer ID (GM/T 0009 default ``1234567812345678``).
    signing_time
        The signingTime attribute for SM2 signatures (default: now); the RSA/EC builder
        always writes the current time, as openssl does.
    """
    cert = asn1_x509.Certificate.load(_pem_to_der(cert_pem))
    chain = [der for pem in chain_pems for der in _all_pem_der(pem)]
    if _is_sm2(cert):
        key = sm2.load_private_key(key_pem, password)
        return _sign_sm2(payload, cert, key, chain, signed_attributes=signed_attributes,
                         wrapper=wrapper, signer_id=sm2_signer_id, signing_time=signing_time)
    if wrapper != "pkcs7":
        raise ValueError("the GM/T 0010 wrapper is for SM2 keys")
    if digest not in _HASHES:
        raise ValueError(f"unsupported digest {digest!r}")
    private_key = serialization.load_pem_private_key(key_pem, password)
    if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("only RSA, EC and SM2 keys can sign applications")
    algorithm = _HASHES[digest]
    rsa_padding: padding.PSS | None = None
    if rsa_pss:
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError("RSASSA-PSS needs an RSA key")
        rsa_padding = padding.PSS(mgf=padding.MGF1(algorithm),
                                  salt_length=padding.PSS.DIGEST_LENGTH)
    builder = pkcs7.PKCS7SignatureBuilder().set_data(payload).add_signer(
        x509.load_der_x509_certificate(cert.dump()), private_key, algorithm,  # type: ignore[arg-type]
        rsa_padding=rsa_padding)
    for der in chain:
        builder = builder.add_certificate(x509.load_der_x509_certificate(der))
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    if not signed_attributes:
        options.append(pkcs7.PKCS7Options.NoAttributes)
    return builder.sign(serialization.Encoding.DER, options)


def _sign_sm2(payload: bytes, cert: asn1_x509.Certificate, key: object, chain: list[bytes], *,
              signed_attributes: bool, wrapper: Wrapper, signer_id: bytes,
              signing_time: datetime | None) -> bytes:
    data_type, signed_type = {"pkcs7": (oids.PKCS7_DATA, oids.PKCS7_SIGNED_DATA),
                              "gmt0010": (oids.GM_DATA, oids.GM_SIGNED_DATA)}[wrapper]
    signer_info: dict[str, object] = {
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": cert.issuer, "serial_number": cert.serial_number})}),
        "digest_algorithm": {"algorithm": oids.SM3},
        "signature_algorithm": {"algorithm": oids.SM2_WITH_SM3 if wrapper == "pkcs7"
                                else oids.SM2_SIGN},
    }
    if signed_attributes:
        digest = hashes.Hash(hashes.SM3())
        digest.update(payload)
        moment = (signing_time or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        attributes = cms.CMSAttributes([
            cms.CMSAttribute({"type": "content_type",
                              "values": [cms.ContentType(data_type)]}),
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time(
                {"utc_time" if moment.year < 2050 else "generalized_time": moment})]}),
            cms.CMSAttribute({"type": "message_digest", "values": [digest.finalize()]}),
        ])
        # The signature covers the DER SET OF (asn1crypto sorts it); the SignerInfo carries
        # the same content under [0] IMPLICIT.
        signer_info["signed_attrs"] = attributes
        to_sign = attributes.dump()
    else:
        to_sign = payload
    signer_info["signature"] = sm2.sign(key, to_sign, signer_id)
    signed_data = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [{"algorithm": oids.SM3}],
        "encap_content_info": {"content_type": data_type},
        "certificates": [cms.CertificateChoices({"certificate": cert}), *(
            cms.CertificateChoices({"certificate": asn1_x509.Certificate.load(der)})
            for der in chain)],
        "signer_infos": [cms.SignerInfo(signer_info)],
    })
    return bytes(_ContentInfo({"content_type": signed_type, "content": signed_data}).dump())


class _ContentInfo(cms.ContentInfo):
    """asn1crypto's ContentInfo, also knowing that GM/T 0010 signedData holds SignedData.

    (An unknown content type's OID is its own name, so the spec is keyed by the dotted OID.)
    """

    _oid_specs: ClassVar[dict[str, type]] = {"signed_data": cms.SignedData,
                                             oids.GM_SIGNED_DATA: cms.SignedData}


def load_pkcs12(data: bytes, password: bytes | None) -> tuple[bytes, bytes, list[bytes]]:
    """Certificate, private key (PKCS#8, unencrypted) and chain, all PEM, from a PKCS#12 file.

    RSA and EC keys (cryptography); a PKCS#12 file with an SM2 key is not supported: export
    the certificate and key as PEM instead.
    """
    key, cert, extra = pkcs12.load_key_and_certificates(data, password)
    if key is None or cert is None:
        raise ValueError("the PKCS#12 file holds no key and certificate")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("only RSA and EC keys are supported in PKCS#12 files")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return (cert.public_bytes(serialization.Encoding.PEM), key_pem,
            [c.public_bytes(serialization.Encoding.PEM) for c in extra or ()])


def _is_sm2(cert: asn1_x509.Certificate) -> bool:
    spki = cert["tbs_certificate"]["subject_public_key_info"]
    if spki["algorithm"]["algorithm"].dotted != oids.EC_PUBLIC_KEY:
        return False
    parameters = spki["algorithm"]["parameters"]
    return bool(parameters.name == "named" and parameters.chosen.dotted == oids.SM2_CURVE)


def _pem_to_der(pem: bytes) -> bytes:
    blocks = _all_pem_der(pem)
    if not blocks:
        raise ValueError("no PEM certificate found")
    return blocks[0]


def _all_pem_der(pem: bytes) -> list[bytes]:
    if b"-----BEGIN" not in pem:
        return [pem]  # already DER
    return [c.public_bytes(serialization.Encoding.DER)
            for c in x509.load_pem_x509_certificates(pem)]


__all__ = ["load_pkcs12", "sign_detached"]
