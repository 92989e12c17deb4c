"""The trust store: anchors, intermediates and CRLs, parsed and cross-checked once.

The verify function rebuilds it at most once a minute from the trust bucket (``roots/``,
``intermediates/``, ``crls/``, PEM or DER). Building verifies every CA-to-CA link and every
CRL signature the store can check, and keeps the answers keyed by fingerprints, so that one
verification costs the leaf's own signature, the content signature and dictionary lookups.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from asn1crypto import core
from cryptography import x509

from chalicelib.signature import oids
from chalicelib.signature.certs import CertInfo, CrlInfo, Revocation, cert_signed_by
from chalicelib.signature.sm2 import DEFAULT_SIGNER_ID

# Extended key usages that allow signing an application, when the signer certificate has an
# EKU extension at all (without one, key usage alone decides). emailProtection is what
# S/MIME-style signing certificates carry; documentSigning (RFC 9336) and Microsoft's
# document signing are made for exactly this; clientAuth is in because Chinese citizen and
# company certificates (USB keys) typically carry only clientAuth and emailProtection.
# codeSigning and serverAuth are not: they certify software and servers, not people.
DEFAULT_SIGNING_EKUS = frozenset({
    oids.EKU_EMAIL_PROTECTION, oids.EKU_DOCUMENT_SIGNING, oids.EKU_MS_DOCUMENT_SIGNING,
    oids.EKU_CLIENT_AUTH, oids.EKU_ANY,
})

_COMMON_NAME = x509.NameOID.COMMON_NAME.dotted_string
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
# Certificates that came in signatures (signers' and their intermediates), remembered parsed
# between verifications: an agent or a company files many applications with one certificate.
# Only the parse is remembered; every verification still checks the signer's certificate
# signature. Bounded, and dropped with the store when the store is rebuilt.
_MAX_EXTRA = 4096
# How deep the check of a CRL signer's own revocation may recurse (its CRL signed by yet
# another key, and so on).
_MAX_CRL_SIGNER_DEPTH = 2


@dataclass(frozen=True)
class CaRule:
    """Per-CA rules: how a certificate binds to an applicant, SM2 signer ID, allowed EKUs.

    Identity binding (first that is set wins): ``identity_extension`` (an extension OID
    whose value is a string), ``identity_cn_pattern`` (a regular expression matched against
    the whole subject CN; its group ``id``, else group 1, else the whole match), else the
    subject attribute ``identity_attribute`` (default serialNumber, 2.5.4.5).
    """

    identity_attribute: str = oids.SUBJECT_SERIAL_NUMBER
    identity_extension: str | None = None
    identity_cn_pattern: str | None = None
    sm2_signer_id: bytes = DEFAULT_SIGNER_ID
    signing_ekus: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.identity_extension and self.identity_cn_pattern:
            raise ValueError("give an identity extension or a CN pattern, not both")
        if self.identity_cn_pattern:
            re.compile(self.identity_cn_pattern)  # fail at configuration, not per request
        for oid in (self.identity_attribute, self.identity_extension):
            if oid is not None:
                x509.ObjectIdentifier(oid)

    def identities_of(self, cert: CertInfo) -> list[str]:
        """The identity values the certificate carries under this rule."""
        try:
            if self.identity_extension:
                ext = cert.cert.extensions.get_extension_for_oid(_oid(self.identity_extension))
                value = ext.value.value if isinstance(ext.value, x509.UnrecognizedExtension) \
                    else None
                text = _string_value(value) if value is not None else None
                return [text] if text else []
            if self.identity_cn_pattern:
                found = []
                for cn in _attribute_values(cert, _COMMON_NAME):
                    match = re.fullmatch(self.identity_cn_pattern, cn)
                    if match:
                        groups = match.groupdict()
                        found.append(groups["id"] if "id" in groups else
                                     match.group(1) if match.re.groups else match.group(0))
                return found
            return _attribute_values(cert, self.identity_attribute)
        except Exception:  # an absent or odd extension binds nobody
            return []


def _attribute_values(cert: CertInfo, oid: str) -> list[str]:
    return [value for attribute in cert.cert.subject.get_attributes_for_oid(_oid(oid))
            if isinstance(value := attribute.value, str)]


@functools.lru_cache(maxsize=64)
def _oid(dotted: str) -> x509.ObjectIdentifier:
    return x509.ObjectIdentifier(dotted)


def _string_value(der: bytes) -> str | None:
    value = core.Asn1Value.load(der, strict=True)
    if isinstance(value, core.AbstractString):
        return str(value.native)
    if isinstance(value, core.OctetString):
        return bytes(value.native).decode("utf-8")
    return None


def normalise_identity(value: str) -> str:
    """Trim, and make a trailing ``x`` (resident ID check character) upper case."""
    value = value.strip()
    return value[:-1] + "X" if value.endswith("x") else value


@dataclass(frozen=True)
class RevocationStatus:
    """The answer of the CRLs about one certificate."""

    status: Literal["good", "revoked", "unknown"]
    crl: CrlInfo | None = None
    entry: Revocation | None = None


@dataclass
class _Index:
    by_subject: dict[bytes, list[CertInfo]] = field(default_factory=dict)

    def add(self, cert: CertInfo) -> None:
        bucket = self.by_subject.setdefault(cert.subject_key, [])
        if all(c.fingerprint != cert.fingerprint for c in bucket):
            bucket.append(cert)


class TrustStore:
    """Trust anchors, intermediates and CRLs, with verified links cached by fingerprint."""

    def __init__(self, anchors: Sequence[CertInfo], intermediates: Sequence[CertInfo],
                 crls: Sequence[CrlInfo], rules: Mapping[str, CaRule] | None = None,
                 problems: Sequence[tuple[str, str]] = ()) -> None:
        self.anchors = tuple(anchors)
        self.intermediates = tuple(i for i in intermediates
                                   if i.fingerprint not in {a.fingerprint for a in anchors})
        self.crls = tuple(crls)
        self.problems = tuple(problems)
        self._rules = dict(rules or {})
        self._anchor_fps = frozenset(a.fingerprint for a in self.anchors)
        self._by_fp = {c.fingerprint: c for c in (*self.anchors, *self.intermediates)}
        self._index = _Index()
        for cert in (*self.anchors, *self.intermediates):  # anchors first: tried first
            self._index.add(cert)
        self._crls_by_issuer: dict[bytes, list[CrlInfo]] = {}
        for crl in self.crls:
            self._crls_by_issuer.setdefault(crl.issuer_key, []).append(crl)
        self._deltas_by_issuer: dict[bytes, list[CrlInfo]] = {}
        for crl in self.crls:
            if crl.delta_base is not None:
                self._deltas_by_issuer.setdefault(crl.issuer_key, []).append(crl)
        for bucket in (*self._crls_by_issuer.values(), *self._deltas_by_issuer.values()):
            # Newest first: by CRL number when present, then by thisUpdate.
            bucket.sort(key=lambda c: (c.number if c.number is not None else -1,
                                       c.this_update), reverse=True)
        self._store_links: dict[tuple[str, str], bool] = {}
        self._extra_links: dict[tuple[str, str], bool] = {}
        self._extra_certs: dict[str, CertInfo] = {}
        self._crl_signatures: dict[tuple[str, str], bool] = {}
        self._warm()

    @classmethod
    def from_objects(cls, objects: Mapping[str, bytes],
                     ca_rules: Mapping[str, CaRule] | None = None) -> TrustStore:
        """Build the store from the trust bucket's objects.

        Parameters
        ----------
        objects
            Object key to content: ``roots/…`` (trust anchors), ``intermediates/…`` and
            ``crls/…``; PEM (possibly several blocks) or DER. Other keys are ignored. An
            object that does not parse is skipped and listed in ``problems``.
        ca_rules
            Rules per CA, keyed by the object key that holds the CA certificate or by the
            CA certificate's SHA-256 fingerprint (hex, colons allowed). A signer gets the
            rule of the nearest CA above it that has one, else the defaults.
        """
        anchors: list[CertInfo] = []
        intermediates: list[CertInfo] = []
        crls: list[CrlInfo] = []
        problems: list[tuple[str, str]] = []
        fps_by_key: dict[str, list[str]] = {}
        for key in sorted(objects):
            kind = key.split("/", 1)[0]
            if kind not in ("roots", "intermediates", "crls"):
                continue
            try:
                blocks = list(_der_blocks(objects[key]))
                if not blocks:
                    raise ValueError("no PEM block and not DER")
                for der in blocks:
                    if kind == "crls":
                        crls.append(CrlInfo(der, key))
                        continue
                    cert = CertInfo(der)
                    (anchors if kind == "roots" else intermediates).append(cert)
                    fps_by_key.setdefault(key, []).append(cert.fingerprint)
            except ValueError as exc:
                problems.append((key, str(exc)))
        rules: dict[str, CaRule] = {}
        for name, rule in (ca_rules or {}).items():
            fps = fps_by_key.get(name) or [name.replace(":", "").lower()]
            for fp in fps:
                rules[fp] = rule
        known = {c.fingerprint for c in (*anchors, *intermediates)}
        problems += [(name, "CA rule matches no certificate in the store")
                     for name in (ca_rules or {})
                     if not any(fp in known for fp in
                                fps_by_key.get(name, [name.replace(":", "").lower()]))]
        return cls(anchors, intermediates, crls, rules, problems)

    # --- paths ---------------------------------------------------------------------------

    def is_anchor(self, cert: CertInfo) -> bool:
        """Whether ``cert`` is one of the trust anchors (by fingerprint)."""
        return cert.fingerprint in self._anchor_fps

    def known_certificate(self, der: bytes, fingerprint: str,
                          cert: x509.Certificate | None = None) -> CertInfo:
        """The parsed certificate for ``der``: the store's own, one seen before, or new.

        ``fingerprint`` must be the SHA-256 of ``der``. Raises ValueError when it does not
        parse.
        """
        known = self._by_fp.get(fingerprint) or self._extra_certs.get(fingerprint)
        if known is None:
            info = CertInfo(der, cert, fingerprint)
            if len(self._extra_certs) >= _MAX_EXTRA:
                self._extra_certs.clear()
            self._extra_certs[fingerprint] = info
            return info
        return known

    def clear_cache(self) -> None:
        """Forget the certificates seen in signatures (benchmarks measure a cold signer)."""
        self._extra_certs.clear()

    def issuer_candidates(self, cert: CertInfo,
                          extra: Mapping[bytes, list[CertInfo]]) -> Iterable[CertInfo]:
        """Certificates whose subject is ``cert``'s issuer, store first, key IDs agreeing."""
        seen: set[str] = set()
        for candidate in (*self._index.by_subject.get(cert.issuer_key, ()),
                          *extra.get(cert.issuer_key, ())):
            if candidate.fingerprint in seen:
                continue
            seen.add(candidate.fingerprint)
            if cert.aki is not None and candidate.ski is not None and cert.aki != candidate.ski:
                continue  # a different key of a CA with the same name
            yield candidate

    def signed(self, child: CertInfo, issuer: CertInfo) -> bool:
        """Whether ``issuer`` signed ``child``; CA certificates' answers are remembered."""
        if not child.basic_ca:
            return cert_signed_by(child, issuer)  # a leaf: new at (almost) every request
        key = (child.fingerprint, issuer.fingerprint)
        in_store = child.fingerprint in self._by_fp and issuer.fingerprint in self._by_fp
        cache = self._store_links if in_store else self._extra_links
        answer = cache.get(key)
        if answer is None:
            answer = cert_signed_by(child, issuer)
            if not in_store and len(cache) >= _MAX_EXTRA:
                cache.clear()
            cache[key] = answer
        return answer

    def rule_for(self, path: Sequence[CertInfo]) -> CaRule:
        """The rule of the nearest CA above the signer that has one, else the default."""
        for cert in path[1:]:
            rule = self._rules.get(cert.fingerprint)
            if rule is not None:
                return rule
        return _DEFAULT_RULE

    # --- revocation ----------------------------------------------------------------------

    def revocation(self, cert: CertInfo, issuer: CertInfo, now: datetime,
                   anchor: CertInfo | None = None, _depth: int = 0) -> RevocationStatus:
        """What the newest current CRL of ``issuer`` covering ``cert`` says about it.

        The CRL is signed by ``issuer`` or, RFC 5280 6.3.3 (f), by another certificate of
        the same CA name (key rollover, a separate CRL signing key) whose own path to
        ``anchor`` (the target's anchor, when given) validates and is not revoked.
        """
        for crl in self._crls_by_issuer.get(cert.issuer_key, ()):
            if not crl.covers(cert) or not crl.is_current(now):
                continue
            if not self._crl_signed_by(crl, issuer) and \
                    not self._other_crl_signer(crl, issuer, now, anchor, _depth):
                continue
            entry = crl.entries.get(cert.serial)
            # RFC 5280 5.2.4: the newest current delta CRL of this complete CRL amends it.
            for delta in self._deltas_by_issuer.get(cert.issuer_key, ()):
                if delta.is_delta_for(crl) and delta.is_current(now) and \
                        self._crl_signed_by(delta, issuer):
                    change = delta.entries.get(cert.serial)
                    if change is not None:
                        if change.reason == "removeFromCRL":
                            # Only a hold can be lifted (RFC 5280 5.3.1).
                            if entry is None or entry.reason == "certificateHold":
                                return RevocationStatus("good", delta, None)
                            break
                        return RevocationStatus("revoked", delta, change)
                    break
            return RevocationStatus("revoked" if entry else "good", crl, entry)
        return RevocationStatus("unknown")

    def _other_crl_signer(self, crl: CrlInfo, issuer: CertInfo, now: datetime,
                          anchor: CertInfo | None, depth: int) -> bool:
        if depth >= _MAX_CRL_SIGNER_DEPTH:
            return False
        for signer in self._index.by_subject.get(crl.issuer_key, ()):
            if signer.fingerprint == issuer.fingerprint or not signer.valid_at(now) or \
                    not self._crl_signed_by(crl, signer):
                continue
            path = self._store_path(signer, now, anchor)
            if path is not None and all(
                    self.revocation(c, path[i + 1], now, anchor, depth + 1).status == "good"
                    for i, c in enumerate(path[:-1])):
                return True
        return False

    def _store_path(self, cert: CertInfo, now: datetime,
                    anchor: CertInfo | None) -> list[CertInfo] | None:
        """A path of store certificates from ``cert`` to an anchor (``anchor`` if given):
        links verified, CAs with keyCertSign, all valid at ``now``. Bounded."""
        budget = [64]

        def walk(path: list[CertInfo]) -> list[CertInfo] | None:
            top = path[-1]
            if self.is_anchor(top):
                return list(path) if anchor is None or top.fingerprint == \
                    anchor.fingerprint else None
            if len(path) >= 8:
                return None
            for issuer in self.issuer_candidates(top, {}):
                budget[0] -= 1
                if budget[0] < 0:
                    return None
                if any(issuer.fingerprint == c.fingerprint for c in path) or \
                        not issuer.basic_ca or not issuer.valid_at(now) or \
                        (issuer.key_usage is not None and not issuer.key_usage.key_cert_sign):
                    continue
                if self.signed(top, issuer):
                    path.append(issuer)
                    found = walk(path)
                    path.pop()
                    if found is not None:
                        return found
            return None

        return walk([cert])

    def _crl_signed_by(self, crl: CrlInfo, issuer: CertInfo) -> bool:
        key = (crl.fingerprint, issuer.fingerprint)
        answer = self._crl_signatures.get(key)
        if answer is None:
            answer = crl.signed_by(issuer)
            if len(self._crl_signatures) >= _MAX_EXTRA:
                self._crl_signatures.clear()
            self._crl_signatures[key] = answer
        return answer

    def _warm(self) -> None:
        for cert in self.intermediates:
            for issuer in self.issuer_candidates(cert, {}):
                if issuer.fingerprint != cert.fingerprint:
                    self.signed(cert, issuer)
        for crl in self.crls:
            for issuer in self._index.by_subject.get(crl.issuer_key, ()):
                self._crl_signed_by(crl, issuer)


_DEFAULT_RULE = CaRule()


def _der_blocks(data: bytes) -> Iterable[bytes]:
    """The DER objects in a PEM file (every block), or the file itself when it is DER."""
    if b"-----BEGIN" not in data:
        yield data
        return
    for match in _PEM_BLOCK.finditer(data):
        try:
            yield base64.b64decode(b"".join(match.group(2).split()), validate=True)
        except binascii.Error as exc:
            raise ValueError(f"bad base64 in a PEM block: {exc}") from exc
