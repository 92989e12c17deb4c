"""Certificates and CRLs parsed once into what path validation asks of them.

cryptography parses (in Rust, fast); what it cannot do, SM2 keys and signatures, goes to
:mod:`chalicelib.signature.sm2`. Every parse error of untrusted input surfaces as ValueError.

The raw pieces a path check needs (the TBS bytes, the issuer and subject names as encoded, the
SubjectPublicKeyInfo) come from cryptography's declarative DER decoder: asking the
``Certificate`` object for them builds Python ``Name`` objects and re-encodes, several times
the cost of the RSA signature check they serve.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat import asn1
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtensionOID

from chalicelib.signature import oids, sm2

# Extensions whose meaning we process (or that carry no constraint for our use); any other
# extension marked critical makes the certificate unusable, as RFC 5280 section 4.2 requires.
HANDLED_EXTENSIONS = frozenset({
    ExtensionOID.KEY_USAGE, ExtensionOID.EXTENDED_KEY_USAGE, ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME, ExtensionOID.ISSUER_ALTERNATIVE_NAME,
    ExtensionOID.CRL_DISTRIBUTION_POINTS, ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
    # Policies: processed by verify._check_policies (RFC 5280 6.1.3 d-f, 6.1.4 a-b, g-j,
    # 6.1.5), the valid-policy tree kept as the set of expected policies of its leaves.
    ExtensionOID.CERTIFICATE_POLICIES, ExtensionOID.POLICY_CONSTRAINTS,
    ExtensionOID.POLICY_MAPPINGS, ExtensionOID.INHIBIT_ANY_POLICY,
    # Name constraints: verify._check_name_constraints (RFC 5280 6.1.3 b-c, 6.1.4 g).
    ExtensionOID.NAME_CONSTRAINTS,
})

# Hashes a certificate or CRL signature may use. SHA-1 and MD5 are refused.
_CERT_HASHES = frozenset({"sha256", "sha384", "sha512"})


@asn1.sequence
class _TbsCertificate:
    version: Annotated[int | None, asn1.Explicit(0)]
    serial_number: int
    signature: asn1.TLV
    issuer: asn1.TLV
    validity: asn1.TLV
    subject: asn1.TLV
    subject_public_key_info: asn1.TLV
    issuer_unique_id: Annotated[asn1.BitString | None, asn1.Implicit(1)]
    subject_unique_id: Annotated[asn1.BitString | None, asn1.Implicit(2)]
    extensions: Annotated[list[asn1.TLV] | None, asn1.Explicit(3)]


@asn1.sequence
class _Certificate:
    tbs_certificate: asn1.TLV
    signature_algorithm: asn1.TLV
    signature_value: asn1.BitString


@asn1.sequence
class _TbsCertList:
    version: int | None
    signature: asn1.TLV
    issuer: asn1.TLV
    this_update: asn1.UTCTime | asn1.GeneralizedTime
    next_update: asn1.UTCTime | asn1.GeneralizedTime | None
    revoked_certificates: list[asn1.TLV] | None
    crl_extensions: Annotated[list[asn1.TLV] | None, asn1.Explicit(0)]


@asn1.sequence
class _CertificateList:
    tbs_cert_list: _TbsCertList
    signature_algorithm: asn1.TLV
    signature_value: asn1.BitString


def issuer_name_of(der: bytes) -> bytes:
    """The issuer name of a DER certificate, as encoded (ValueError if it does not parse)."""
    tbs = asn1.decode_der(_Certificate, der).tbs_certificate.parse(_TbsCertificate)
    return asn1.encode_der(tbs.issuer)


def _policy_mappings(value: Any) -> tuple[tuple[str, str], ...]:
    try:
        der = value.public_bytes() if hasattr(value, "public_bytes") else value.value
        mappings = asn1_x509.PolicyMappings.load(der, strict=True)
        return tuple((m["issuer_domain_policy"].dotted, m["subject_domain_policy"].dotted)
                     for m in mappings)
    except Exception as exc:
        raise ValueError(f"unparseable policyMappings: {exc}") from exc


@functools.lru_cache(maxsize=4096)
def name_key(der: bytes) -> bytes:
    """A key under which two encoded names are equal iff RFC 5280 section 7.1 says they match.

    asn1crypto's ``Name.hashable`` applies the LDAP string preparation of RFC 4518 (case
    folding, insignificant whitespace, PrintableString against UTF8String and the other
    DirectoryString choices). A name it cannot read is only equal to itself, byte for byte.
    """
    try:
        hashable: str = asn1_x509.Name.load(der, strict=True).hashable
        return b"7.1:" + hashable.encode()
    except Exception:
        return b"der:" + der


def fingerprint(der: bytes) -> str:
    """SHA-256 of the DER encoding, lower-case hex."""
    return hashlib.sha256(der).hexdigest()


class CertInfo:
    """One X.509 certificate with the fields path validation uses, parsed once."""

    __slots__ = ("_is_sm2", "_issuer_key", "_public_key", "_subject_key", "_subject_text", "aki",
                 "basic_ca", "cert", "der", "eku", "fingerprint", "inhibit_any", "issuer_name",
                 "key_usage",
                 "not_after", "not_before", "path_length", "policies", "policy_constraints",
                 "policy_mappings", "serial", "signature", "ski", "spki",
                 "subject_name", "tbs_bytes", "unhandled_critical")

    def __init__(self, der: bytes, cert: x509.Certificate | None = None,
                 fingerprint_hex: str | None = None) -> None:
        try:
            cert = cert or x509.load_der_x509_certificate(der)
            head = asn1.decode_der(_Certificate, der)
            tbs = head.tbs_certificate.parse(_TbsCertificate)
            if head.signature_value.padding_bits():
                # A signature is whole octets; unused bits would give the same certificate
                # a second encoding, and so a second fingerprint.
                raise ValueError("the signature BIT STRING has unused bits")
            self.signature = head.signature_value.as_bytes()
            self.tbs_bytes = asn1.encode_der(head.tbs_certificate)
            # Names as encoded: issuer and subject chain by binary comparison.
            self.subject_name = asn1.encode_der(tbs.subject)
            self.issuer_name = asn1.encode_der(tbs.issuer)
            self.spki = asn1.encode_der(tbs.subject_public_key_info)
            self.serial = tbs.serial_number
            # cryptography parses lazily too: touch now what the checks read later, so that
            # a malformed certificate fails here, as ValueError, and nowhere else.
            self.not_before = cert.not_valid_before_utc
            self.not_after = cert.not_valid_after_utc
            extensions = cert.extensions
        except Exception as exc:  # cryptography raises ValueError and friends
            raise ValueError(f"unparseable certificate: {exc}") from exc
        self.der = der
        self.cert = cert
        self.fingerprint = fingerprint_hex or fingerprint(der)
        self._public_key: Any = None
        self._is_sm2 = False
        self._subject_text: str | None = None
        self._issuer_key: bytes | None = None
        self._subject_key: bytes | None = None
        self.ski: bytes | None = None
        self.aki: bytes | None = None
        self.key_usage: x509.KeyUsage | None = None
        self.eku: frozenset[str] | None = None
        self.basic_ca = False
        self.path_length: int | None = None
        # certificatePolicies OIDs (None: no extension); policyConstraints as
        # (requireExplicitPolicy, inhibitPolicyMapping); policyMappings as (issuer, subject)
        # domain policy pairs; inhibitAnyPolicy skipCerts.
        self.policies: frozenset[str] | None = None
        self.policy_constraints: tuple[int | None, int | None] | None = None
        self.policy_mappings: tuple[tuple[str, str], ...] | None = None
        self.inhibit_any: int | None = None
        unhandled: list[str] = []
        for extension in extensions:
            value = extension.value
            if isinstance(value, x509.SubjectKeyIdentifier):
                self.ski = value.digest
            elif isinstance(value, x509.AuthorityKeyIdentifier):
                self.aki = value.key_identifier
            elif isinstance(value, x509.KeyUsage):
                self.key_usage = value
            elif isinstance(value, x509.ExtendedKeyUsage):
                self.eku = frozenset(oid.dotted_string for oid in value)
            elif isinstance(value, x509.BasicConstraints):
                self.basic_ca = value.ca
                self.path_length = value.path_length
            elif isinstance(value, x509.CertificatePolicies):
                self.policies = frozenset(p.policy_identifier.dotted_string for p in value)
            elif isinstance(value, x509.PolicyConstraints):
                self.policy_constraints = (value.require_explicit_policy,
                                           value.inhibit_policy_mapping)
            elif isinstance(value, x509.InhibitAnyPolicy):
                self.inhibit_any = value.skip_certs
            elif extension.oid == ExtensionOID.POLICY_MAPPINGS:
                self.policy_mappings = _policy_mappings(value)
            if extension.critical and extension.oid not in HANDLED_EXTENSIONS:
                unhandled.append(extension.oid.dotted_string)
        self.unhandled_critical = tuple(unhandled)

    @property
    def issuer_key(self) -> bytes:
        """The issuer name as compared (RFC 5280 7.1): see ``name_key``."""
        if self._issuer_key is None:
            self._issuer_key = name_key(self.issuer_name)
        return self._issuer_key

    @property
    def subject_key(self) -> bytes:
        """The subject name as compared (RFC 5280 7.1): see ``name_key``."""
        if self._subject_key is None:
            self._subject_key = name_key(self.subject_name)
        return self._subject_key

    @property
    def self_issued(self) -> bool:
        """Subject and issuer are the same name (RFC 5280 "self-issued", 7.1 matching)."""
        return self.subject_name == self.issuer_name or self.subject_key == self.issuer_key

    @property
    def public_key(self) -> Any:
        """The subject's public key: a cryptography key, or a tongsuopy one for SM2.

        Raises ValueError when the key is of a kind we do not verify with.
        """
        if self._public_key is None:
            try:
                self._public_key = self.cert.public_key()
            except UnsupportedAlgorithm:
                # cryptography knows no SM2 curve; the SPKI goes to tongsuopy as it is.
                self._public_key = sm2.load_public_key(self.spki)
                self._is_sm2 = True
            except Exception as exc:
                raise ValueError(f"unusable public key: {exc}") from exc
        return self._public_key

    @property
    def is_sm2(self) -> bool:
        """Whether the subject key is an SM2 key (ValueError if the key is unusable)."""
        _ = self.public_key
        return self._is_sm2

    def subject_text(self) -> str:
        """The subject as an RFC 4514 string (for reports, not for logs: it may hold an ID)."""
        if self._subject_text is None:
            try:
                self._subject_text = name_text(self.cert.subject)
            except ValueError:  # a name cryptography cannot read: say what it is
                self._subject_text = "#" + self.subject_name.hex()
        return self._subject_text

    def issuer_text(self) -> str:
        """The issuer as an RFC 4514 string (hex when it does not parse)."""
        try:
            return name_text(self.cert.issuer)
        except ValueError:
            return "#" + self.issuer_name.hex()

    def valid_at(self, moment: datetime) -> bool:
        """Whether ``moment`` lies within notBefore..notAfter (both inclusive)."""
        return self.not_before <= moment <= self.not_after


def name_text(name: x509.Name) -> str:
    """RFC 4514 text of a name, with serialNumber spelled out rather than as 2.5.4.5."""
    return name.rfc4514_string(_NAME_OVERRIDES)


_NAME_OVERRIDES = {x509.NameOID.SERIAL_NUMBER: "serialNumber"}


def check_signed_by(signature: bytes, tbs: bytes, algorithm_oid: str, parameters: Any,
                    hash_algorithm: hashes.HashAlgorithm | None, issuer: CertInfo) -> bool:
    """Whether ``issuer``'s key made ``signature`` over ``tbs`` (a certificate or CRL body).

    ``parameters`` and ``hash_algorithm`` are what cryptography reports for the signed
    object (``signature_algorithm_parameters``, ``signature_hash_algorithm``); both are None
    for SM2, which cryptography does not know.
    """
    try:
        key = issuer.public_key
        if algorithm_oid == oids.SM2_WITH_SM3:
            # GM/T 0015: certificate and CRL signatures use the default signer ID.
            return issuer.is_sm2 and sm2.verify(key, signature, tbs)
        if hash_algorithm is None or hash_algorithm.name not in _CERT_HASHES:
            return False
        if isinstance(key, rsa.RSAPublicKey) and isinstance(parameters,
                                                             (padding.PKCS1v15, padding.PSS)):
            key.verify(signature, tbs, parameters, hash_algorithm)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(parameters, ec.ECDSA):
            key.verify(signature, tbs, parameters)
            return True
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return False


def _algorithm_of(signed: x509.Certificate | x509.CertificateRevocationList) -> tuple[
        str, Any, hashes.HashAlgorithm | None]:
    oid = signed.signature_algorithm_oid.dotted_string
    if oid == oids.SM2_WITH_SM3:
        return oid, None, None
    try:
        return oid, signed.signature_algorithm_parameters, signed.signature_hash_algorithm
    except Exception:  # an algorithm cryptography does not support: not verifiable here
        return oid, None, None


def cert_signed_by(child: CertInfo, issuer: CertInfo) -> bool:
    """Whether ``issuer`` signed ``child`` (names must chain too)."""
    if child.issuer_name != issuer.subject_name and child.issuer_key != issuer.subject_key:
        return False
    return check_signed_by(child.signature, child.tbs_bytes, *_algorithm_of(child.cert),
                           issuer)


def _distribution_point_names(cert: CertInfo) -> frozenset[x509.GeneralName]:
    """The fullName general names of ``cert``'s cRLDistributionPoints without cRLIssuer."""
    try:
        points = cert.cert.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    except x509.ExtensionNotFound:
        return frozenset()
    return frozenset(name for point in points.value if point.full_name and not point.crl_issuer
                     for name in point.full_name)


@dataclass(frozen=True)
class Revocation:
    """One CRL entry as we use it."""

    revoked_at: datetime
    reason: str | None


class CrlInfo:
    """One CRL, parsed once; its entries are indexed on first use."""

    def __init__(self, der: bytes, source: str) -> None:
        try:
            crl = x509.load_der_x509_crl(der)
            # The issuer as encoded, to compare with certificates' issuer names as encoded.
            head = asn1.decode_der(_CertificateList, der)
            self.issuer_name = asn1.encode_der(head.tbs_cert_list.issuer)
            self.issuer_key = name_key(self.issuer_name)
            self.this_update = crl.last_update_utc
            self.next_update = crl.next_update_utc
            extensions = crl.extensions
        except Exception as exc:
            raise ValueError(f"unparseable CRL: {exc}") from exc
        self.der = der
        self.crl = crl
        self.source = source
        self.fingerprint = fingerprint(der)
        self.number: int | None = None
        self.usable_scope = True
        self.only_user = self.only_ca = False
        self.idp_names: frozenset[x509.GeneralName] | None = None
        # A delta CRL (RFC 5280 5.2.4): the CRL number of the complete CRL it updates.
        self.delta_base: int | None = None
        self.delta_usable = True
        for extension in extensions:
            value = extension.value
            if isinstance(value, x509.CRLNumber):
                self.number = value.crl_number
            elif isinstance(value, x509.DeltaCRLIndicator):
                self.usable_scope = False  # a delta is not a complete list on its own
                self.delta_base = value.crl_number
            elif isinstance(value, x509.IssuingDistributionPoint):
                # A partitioned or indirect CRL does not tell us about every certificate;
                # we only use complete CRLs, optionally restricted to users or to CAs.
                if value.indirect_crl or value.only_some_reasons or \
                        value.only_contains_attribute_certs or value.relative_name:
                    self.usable_scope = False
                if value.full_name:  # RFC 5280 6.3.3 (b)(2)(i): matched in covers()
                    self.idp_names = frozenset(value.full_name)
                self.only_user = value.only_contains_user_certs
                self.only_ca = value.only_contains_ca_certs
            elif extension.critical and not isinstance(value, x509.AuthorityKeyIdentifier):
                self.usable_scope = False
                self.delta_usable = False
        if self.delta_base is not None and (self.only_user or self.only_ca or any(
                isinstance(e.value, x509.IssuingDistributionPoint) for e in extensions)):
            self.delta_usable = False  # scoped deltas: not read (the complete CRL decides)

    def covers(self, cert: CertInfo) -> bool:
        """Whether this CRL's scope includes ``cert`` (by issuer name and kind)."""
        if not self.usable_scope or self.issuer_key != cert.issuer_key:
            return False
        if (self.only_user and cert.basic_ca) or (self.only_ca and not cert.basic_ca):
            return False
        return self.idp_names is None or bool(self.idp_names & _distribution_point_names(cert))

    def signed_by(self, issuer: CertInfo) -> bool:
        """Whether ``issuer`` signed this CRL (and may sign CRLs)."""
        if issuer.key_usage is not None and not issuer.key_usage.crl_sign:
            return False
        crl = self.crl
        try:
            signature, tbs = crl.signature, crl.tbs_certlist_bytes
        except ValueError:
            return False
        return check_signed_by(signature, tbs, *_algorithm_of(crl), issuer)

    @functools.cached_property
    def entries(self) -> dict[int, Revocation]:
        """Revoked serial numbers; built once, then each lookup is a dict access."""
        found: dict[int, Revocation] = {}
        for entry in self.crl:
            reason: str | None = None
            try:
                reason = entry.extensions.get_extension_for_class(
                    x509.CRLReason).value.reason.value
            except Exception:  # absent or unparseable: the entry still revokes
                reason = None
            if reason == "removeFromCRL" and self.delta_base is None:
                continue  # only meaningful in delta CRLs: the entry is not a revocation
            found[entry.serial_number] = Revocation(entry.revocation_date_utc, reason)
        return found

    def is_delta_for(self, base: CrlInfo) -> bool:
        """Whether this is a usable delta CRL updating the complete CRL ``base``."""
        return self.delta_base is not None and self.delta_usable and \
            base.number is not None and self.number is not None and \
            self.issuer_key == base.issuer_key and \
            self.delta_base <= base.number < self.number

    @functools.cached_property
    def report_entry(self) -> dict[str, Any]:
        """What the validation report says about this CRL (built once)."""
        return {"source": self.source, "sha256": self.fingerprint, "crl_number": self.number,
                "this_update": self.this_update.isoformat(),
                "next_update": self.next_update.isoformat() if self.next_update else None}

    def is_current(self, now: datetime) -> bool:
        """thisUpdate <= now <= nextUpdate; a CRL without nextUpdate is never current."""
        return self.next_update is not None and self.this_update <= now <= self.next_update
