"""Structural parse of the envelope's signature: a detached CMS SignedData, one signer.

Cheap enough for the intake endpoint (no signature checked, no trust decision), and the first
step of :func:`chalicelib.signature.verify.verify_detached`, which reuses its result.
Accepted wrappers: PKCS#7 (RFC 5652, ``1.2.840.113549.1.7.*``) and GM/T 0010
(``1.2.156.10197.6.1.4.2.*``); the inner structure is the same.

The RFC 5652 structures are declared for cryptography's declarative DER decoder
(``cryptography.hazmat.asn1``, Rust): about ten times faster than asn1crypto's, which cost
more than the RSA signature checks themselves. It decodes strict DER only (sorted SET OF,
minimal lengths, no trailing bytes), which is what the contract asks for. Its API is marked
provisional by cryptography: the version is pinned (requirements.txt) and the tests run
it on every variant we accept.

Limits of what is accepted, on purpose: AlgorithmIdentifier parameters absent, NULL or
RSASSA-PSS parameters (every algorithm we accept); certificates in the CMS are plain X.509
certificates (attribute certificates make the structure malformed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from cryptography import x509
from cryptography.hazmat import asn1

from chalicelib.signature import oids
from chalicelib.signature.certs import issuer_name_of
from chalicelib.signature.errors import MalformedSignature

# Far above any real signature (a few KB with its chain); bounds the work on hostile input.
MAX_SIGNATURE_BYTES = 1 << 20
_WRAPPERS = {oids.PKCS7_SIGNED_DATA: "pkcs7", oids.GM_SIGNED_DATA: "gmt0010"}
_SINGLE_VALUED = (oids.ATTR_CONTENT_TYPE, oids.ATTR_MESSAGE_DIGEST, oids.ATTR_SIGNING_TIME)


@asn1.sequence
class HashAlgorithmIdentifier:
    """AlgorithmIdentifier of a hash (RFC 5754: parameters absent or NULL)."""

    algorithm: x509.ObjectIdentifier
    parameters: asn1.Null | None


@asn1.sequence
class MaskGenAlgorithm:
    """AlgorithmIdentifier of MGF1 with its hash (RFC 4055)."""

    algorithm: x509.ObjectIdentifier
    parameters: HashAlgorithmIdentifier | None


@asn1.sequence
class PssParameters:
    """RSASSA-PSS-params (RFC 4055); an absent field takes its DEFAULT."""

    hash_algorithm: Annotated[HashAlgorithmIdentifier | None, asn1.Explicit(0)]
    mask_gen_algorithm: Annotated[MaskGenAlgorithm | None, asn1.Explicit(1)]
    salt_length: Annotated[int | None, asn1.Explicit(2)]
    trailer_field: Annotated[int | None, asn1.Explicit(3)]


@asn1.sequence
class _AlgorithmIdentifier:
    algorithm: x509.ObjectIdentifier
    parameters: asn1.Null | PssParameters | None


@asn1.sequence
class _Attribute:
    type: x509.ObjectIdentifier
    values: asn1.SetOf[asn1.TLV]


@asn1.sequence
class _IssuerAndSerialNumber:
    issuer: asn1.TLV
    serial_number: int


@asn1.sequence
class _SignerInfo:
    version: int
    sid: _IssuerAndSerialNumber | Annotated[bytes, asn1.Implicit(0)]
    digest_algorithm: _AlgorithmIdentifier
    signed_attrs: Annotated[asn1.SetOf[_Attribute] | None, asn1.Implicit(0)]
    signature_algorithm: _AlgorithmIdentifier
    signature: bytes
    unsigned_attrs: Annotated[asn1.SetOf[_Attribute] | None, asn1.Implicit(1)]


@asn1.sequence
class _EncapsulatedContentInfo:
    content_type: x509.ObjectIdentifier
    content: Annotated[bytes | None, asn1.Explicit(0)]


@asn1.sequence
class _SignedData:
    version: int
    digest_algorithms: asn1.SetOf[_AlgorithmIdentifier]
    encap_content_info: _EncapsulatedContentInfo
    certificates: Annotated[asn1.SetOf[asn1.TLV] | None, asn1.Implicit(0)]
    crls: Annotated[asn1.SetOf[asn1.TLV] | None, asn1.Implicit(1)]
    signer_infos: asn1.SetOf[_SignerInfo]


@asn1.sequence
class _ContentInfo:
    content_type: x509.ObjectIdentifier
    content: Annotated[_SignedData, asn1.Explicit(0)]


@dataclass(frozen=True)
class ParsedSignature:
    """What the structure says, before anything is verified.

    ``signer_certificate`` is the DER certificate the SignerInfo names, when the CMS carries
    it; ``certificates`` is every certificate the CMS carries (DER), signer's included.
    """

    wrapper: str
    content_type: str
    digest_algorithm: str
    signature_algorithm: str
    signed_attributes: bool
    signing_time: datetime | None
    signer_certificate: bytes | None
    certificates: tuple[bytes, ...]
    signature_value: bytes = field(repr=False)
    # The DER SET OF the signed attributes: what the signature covers when there are any.
    signed_attributes_der: bytes | None = field(default=None, repr=False)
    message_digest: bytes | None = field(default=None, repr=False)
    pss_parameters: PssParameters | None = field(default=None, repr=False)
    # The same certificates, already parsed: (DER, SHA-256 hex, certificate).
    parsed_certificates: tuple[tuple[bytes, str, x509.Certificate], ...] = field(
        default=(), repr=False, compare=False)

    @property
    def digest_name(self) -> str:
        """``sha256``, ``sm3``…, or the dotted OID when unknown."""
        return oids.DIGEST_NAMES.get(self.digest_algorithm, self.digest_algorithm)

    @property
    def signature_name(self) -> str:
        """``sha256_rsa``, ``rsassa_pss``, ``sm2_sm3``…, or the dotted OID when unknown."""
        return oids.SIGNATURE_NAMES.get(self.signature_algorithm, self.signature_algorithm)


def parse_envelope_signature(signature: bytes) -> ParsedSignature:
    """Parse a detached CMS SignedData with exactly one signer.

    Parameters
    ----------
    signature
        DER bytes, as the envelope's ``signature`` field decodes to.

    Returns
    -------
    ParsedSignature
        The structure's content; nothing is verified yet.

    Raises
    ------
    MalformedSignature
        Anything else: not DER, trailing bytes, another content type, content embedded
        (not detached), zero or several signers, signed attributes without a single
        contentType and messageDigest.
    """
    if not isinstance(signature, bytes | bytearray | memoryview):
        raise MalformedSignature("the signature must be bytes")
    data = bytes(signature)
    if not data:
        raise MalformedSignature("the signature is empty")
    if len(data) > MAX_SIGNATURE_BYTES:
        raise MalformedSignature("the signature is too large")
    try:
        return _parse(data)
    except MalformedSignature:
        raise
    except Exception as exc:
        # The decoder reports every encoding problem as ValueError; anything else would be a
        # decoder surprise on hostile input, and means the same to the caller.
        raise MalformedSignature(f"not a DER CMS SignedData ({type(exc).__name__})") from exc


def _parse(data: bytes) -> ParsedSignature:
    info = asn1.decode_der(_ContentInfo, data)
    wrapper = _WRAPPERS.get(info.content_type.dotted_string)
    if wrapper is None:
        raise MalformedSignature("the content type is not SignedData")
    signed_data = info.content
    encap = signed_data.encap_content_info
    content_type = encap.content_type.dotted_string
    if content_type not in oids.DATA_TYPES:
        raise MalformedSignature("the encapsulated content type is not data")
    if encap.content is not None:
        raise MalformedSignature("the signature is not detached: it embeds content")
    signer_infos = signed_data.signer_infos.as_list()
    if len(signer_infos) != 1:
        raise MalformedSignature(f"expected exactly one signer, found {len(signer_infos)}")
    signer = signer_infos[0]

    certificates: list[tuple[bytes, str, x509.Certificate]] = []
    for item in signed_data.certificates.as_list() if signed_data.certificates else ():
        if item.tag_bytes != b"\x30":
            raise MalformedSignature("only X.509 certificates may ride in the signature")
        der = asn1.encode_der(item)
        try:
            cert = item.parse(x509.Certificate)
        except ValueError:
            continue  # unreadable: it cannot be the signer's, nor help build a path
        certificates.append((der, hashlib.sha256(der).hexdigest(), cert))

    attrs_der = message_digest = signing_time = None
    if signer.signed_attrs is not None:
        # RFC 5652 5.4: the signature covers the attributes' DER under the SET OF tag; they
        # travel under [0] IMPLICIT. The decoder only accepts DER, so re-encoding gives the
        # bytes received; checking that they are there costs nothing and proves it.
        attrs_der = asn1.encode_der(signer.signed_attrs)
        if b"\xa0" + attrs_der[1:] not in data:
            raise MalformedSignature("the signed attributes are not DER")
        message_digest, signing_time = _check_attributes(signer.signed_attrs, content_type)

    parameters = signer.signature_algorithm.parameters
    return ParsedSignature(
        wrapper=wrapper,
        content_type=content_type,
        digest_algorithm=signer.digest_algorithm.algorithm.dotted_string,
        signature_algorithm=signer.signature_algorithm.algorithm.dotted_string,
        signed_attributes=attrs_der is not None,
        signing_time=signing_time,
        signer_certificate=_find_signer(signer.sid, certificates),
        certificates=tuple(der for der, _, _ in certificates),
        signature_value=signer.signature,
        signed_attributes_der=attrs_der,
        message_digest=message_digest,
        pss_parameters=parameters if isinstance(parameters, PssParameters) else None,
        parsed_certificates=tuple(certificates),
    )


def _find_signer(sid: _IssuerAndSerialNumber | bytes,
                 certificates: list[tuple[bytes, str, x509.Certificate]]) -> bytes | None:
    if isinstance(sid, bytes):  # subjectKeyIdentifier
        for der, _, cert in certificates:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            except Exception:  # absent or unparseable: not the certificate the SKI names
                ski = None
            if ski is not None and ski.value.digest == sid:
                return der
        return None
    issuer = asn1.encode_der(sid.issuer)
    for der, _, cert in certificates:
        # Names compare as encoded, as issuer and subject names do along the path.
        if cert.serial_number == sid.serial_number and issuer_name_of(der) == issuer:
            return der
    return None


def _check_attributes(signed_attrs: asn1.SetOf[_Attribute],
                      content_type: str) -> tuple[bytes, datetime | None]:
    seen: dict[str, asn1.TLV] = {}
    for attribute in signed_attrs.as_list():
        kind = attribute.type.dotted_string
        if kind not in _SINGLE_VALUED:
            continue  # smimeCapabilities and others: covered by the signature, not used
        if kind in seen:
            raise MalformedSignature("a signed attribute appears twice")
        values = attribute.values.as_list()
        if len(values) != 1:
            raise MalformedSignature("a signed attribute must have exactly one value")
        seen[kind] = values[0]
    if oids.ATTR_CONTENT_TYPE not in seen or oids.ATTR_MESSAGE_DIGEST not in seen:
        raise MalformedSignature("signed attributes without contentType and messageDigest")
    if seen[oids.ATTR_CONTENT_TYPE].parse(x509.ObjectIdentifier).dotted_string != content_type:
        raise MalformedSignature("the contentType attribute differs from the content type")
    digest = seen[oids.ATTR_MESSAGE_DIGEST].parse(bytes)
    signing_time = None
    if oids.ATTR_SIGNING_TIME in seen:
        value = seen[oids.ATTR_SIGNING_TIME]
        time = value.parse(asn1.UTCTime) if value.tag_bytes == b"\x17" else \
            value.parse(asn1.GeneralizedTime)
        signing_time = time.as_datetime()
    return digest, signing_time
