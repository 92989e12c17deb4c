"""Verify a detached CMS signature over an application: one verdict, one reason code.

Order of the checks, which is also the precedence of the reason codes (``Reason``):

1. structure (``MALFORMED``): DER CMS SignedData, detached, one signer whose certificate is
   found, signed attributes well formed;
2. content signature (``SIGNATURE_INVALID``): messageDigest over the payload, the signature
   over the signed attributes (or the payload), algorithm and key acceptable;
3. path (``CERT_UNTRUSTED``, ``CERT_EXPIRED``, ``CERT_NOT_YET_VALID``, ``CERT_REVOKED``,
   ``CERT_USAGE``, ``REVOCATION_UNKNOWN``): a chain to an anchor whose every link verifies,
   CA constraints, validity at ``now`` and at the signing time(s), the signer's key usage and
   EKU, then CRLs for every certificate below the anchor;
4. identity (``IDENTITY_MISMATCH``): ``applicant_id`` against the certificate, per CA rule.

Policy choices worth knowing:

- A revoked certificate is refused whatever the claimed signing time: without a trusted
  timestamp, signingTime and ``signed_at`` are the signer's own claims.
- A certificate without a key usage extension is unrestricted (RFC 5280); with one, it
  must allow digitalSignature or nonRepudiation. An EKU extension, when present, must hold
  one of the allowed signing EKUs (``DEFAULT_SIGNING_EKUS`` or the CA rule's).
- A CA that lacks CA=true, keyCertSign or respect for its pathLen, or any certificate with
  a critical extension we do not process, breaks the path: ``CERT_UNTRUSTED``.
- No current CRL signed by the issuer (or by another key of the issuer's name whose own path
  validates) for a certificate below the anchor: ``REVOCATION_UNKNOWN``, the only
  indeterminate outcome. A current delta CRL amends its complete CRL.

- Name constraints (directoryName, rfc822Name, dNSName, URI, IP) are processed; a
  constraint of another form breaks the path with that reason.
- Certificate policies are processed as RFC 5280 6.1 says (``_check_policies``), with the
  initial policy set, explicit policy, mapping inhibit and any-policy inhibit as inputs in
  ``VerifyPolicy`` (defaults: any policy, nothing required: what the platform always did).
- Path building is bounded per verification (``_Search``; the bound is in the README).

Why the validator is hand-written rather than delegated to pyhanko-certvalidator: SM2
chains (tongsuopy) must go through the same rules, pyhanko-certvalidator is asyncio based
and about 10-20x slower per verification than this module on the bench corpus
(bench/verify.py), and the reason codes and report are ours. Conformance is measured instead:
tests/unit/signature/test_pkits.py runs NIST PKITS (0 false accepts; the remaining false
rejects are listed there with their reasons).

Nothing here reads the clock or logs: ``now`` is a parameter, the report is the evidence.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from chalicelib.contract import Reason
from chalicelib.signature import oids, sm2
from chalicelib.signature.certs import CertInfo
from chalicelib.signature.envelope import ParsedSignature, parse_envelope_signature
from chalicelib.signature.errors import MalformedSignature
from chalicelib.signature.trust import (
    DEFAULT_SIGNING_EKUS,
    CaRule,
    RevocationStatus,
    TrustStore,
    normalise_identity,
)

POLICY_NAME = "onestop-cms-detached/1"
ANY_POLICY = "2.5.29.32.0"
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512(),
    "sm3": hashes.SM3()}
_PRECEDENCE = {reason: index for index, reason in enumerate(Reason)}


@dataclass(frozen=True)
class VerifyPolicy:
    """Knobs of the validation; the defaults are the platform's policy."""

    digest_algorithms: frozenset[str] = frozenset({"sha256", "sha384", "sha512", "sm3"})
    ec_curves: frozenset[str] = frozenset({"secp256r1", "secp384r1", "secp521r1"})
    min_rsa_bits: int = 2048
    signing_ekus: frozenset[str] = DEFAULT_SIGNING_EKUS
    require_revocation: bool = True
    max_path_length: int = 8
    # RFC 5280 6.1.1 (c), (e)-(g): the defaults (any policy, nothing required or inhibited)
    # are what the platform always did; a catalog item may ask for more.
    initial_policy_set: frozenset[str] = frozenset({ANY_POLICY})
    initial_explicit_policy: bool = False
    initial_policy_mapping_inhibit: bool = False
    initial_any_policy_inhibit: bool = False


DEFAULT_POLICY = VerifyPolicy()


@dataclass(frozen=True)
class Verdict:
    """The outcome: ``reason`` None means valid; ``report`` is the evidence (JSON-ready)."""

    reason: Reason | None
    indeterminate: bool
    report: dict[str, Any] = field(repr=False)
    signer_fingerprint: str | None = None

    @property
    def valid(self) -> bool:
        """True when every check passed."""
        return self.reason is None


class _Fail(Exception):
    """Internal: stop with this reason (and a message for the report)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class _Outcome:
    """One candidate path and what its checks found (reason None: it validates)."""

    path: list[CertInfo]
    reason: Reason | None = None
    message: str | None = None
    revocations: list[tuple[CertInfo, RevocationStatus]] = field(default_factory=list)


def verify_detached(payload: bytes, signature: bytes, trust: TrustStore, *, now: datetime,
                    applicant_id: str, signed_at: datetime | None = None,
                    policy: VerifyPolicy | None = None) -> Verdict:
    """Verify ``signature`` (DER CMS SignedData, detached) over exactly ``payload``.

    Parameters
    ----------
    payload
        The bytes that were signed (the application JSON, as received).
    signature
        The DER CMS SignedData (PKCS#7 or GM/T 0010 wrapper).
    trust
        Anchors, intermediates and CRLs.
    now
        Validation time (aware; a naive value is taken as UTC).
    applicant_id
        The identity number the application claims; must match the certificate's.
    signed_at
        The signing time the application claims; checked against validity, like the
        signingTime attribute.
    policy
        Algorithms, EKUs and limits; ``DEFAULT_POLICY`` when None.

    Returns
    -------
    Verdict
        Never raises for any input bytes: every failure is a reason code.
    """
    policy = policy or DEFAULT_POLICY
    now = _aware(now)
    signed_at = _aware(signed_at) if signed_at is not None else None
    parsed: ParsedSignature | None = None
    signer: CertInfo | None = None
    outcome: _Outcome | None = None
    try:
        parsed = parse_envelope_signature(signature)
        signer, extras = _certificates(parsed, trust)
        search = _Search()
        outcomes = _build_paths(signer, extras, trust, policy, search)
        # The signer ID of an SM2 signature is a per-CA setting: the path tells which CA.
        rule = trust.rule_for(outcomes[0].path) if outcomes else trust.rule_for([signer])
        _check_content(parsed, bytes(payload), signer, rule, policy)
        if not outcomes:
            if search.exhausted:
                raise _Fail(Reason.CERT_UNTRUSTED, "path building budget exhausted "
                            f"({search.examined} candidates, {search.signature_checks} "
                            "signature checks) without a path to a trust anchor")
            raise _Fail(Reason.CERT_UNTRUSTED, "no path from the signer certificate to a "
                        "trust anchor whose every signature verifies")
        times = [t for t in (parsed.signing_time, signed_at) if t is not None]
        for candidate in outcomes:
            _evaluate(candidate, trust, now, [_aware(t) for t in times], policy)
            if candidate.reason is None:
                outcome = candidate
                break
        else:
            # No path validates: report the one that got furthest (its reason comes last).
            outcome = max(outcomes, key=lambda o: _PRECEDENCE[o.reason or Reason.MALFORMED])
            raise _Fail(outcome.reason or Reason.CERT_UNTRUSTED, outcome.message or "")
        rule = trust.rule_for(outcome.path)
        claimed = normalise_identity(applicant_id) if isinstance(applicant_id, str) else ""
        found = [normalise_identity(v) for v in rule.identities_of(signer)]
        if not claimed or claimed not in found:
            raise _Fail(Reason.IDENTITY_MISMATCH,
                        "the applicant's identity number is not the certificate's"
                        if found else "the certificate carries no identity number")
        return _verdict(None, None, parsed, signer, outcome, now, signed_at)
    except _Fail as failure:
        return _verdict(failure.reason, failure.message, parsed, signer, outcome, now,
                        signed_at)
    except MalformedSignature as exc:
        return _verdict(Reason.MALFORMED, str(exc), parsed, signer, outcome, now, signed_at)
    except Exception as exc:  # a bug or a library surprise must not become a 5xx or an accept
        return _verdict(Reason.MALFORMED, f"unexpected {type(exc).__name__} while verifying",
                        None, None, None, now, signed_at)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _certificates(parsed: ParsedSignature, trust: TrustStore) -> tuple[
        CertInfo, dict[bytes, list[CertInfo]]]:
    if parsed.signer_certificate is None:
        raise MalformedSignature("the signer's certificate is not in the signature")
    extras: dict[bytes, list[CertInfo]] = {}
    signer: CertInfo | None = None
    taken = 0
    for der, fp, cert in parsed.parsed_certificates:
        try:
            info = trust.known_certificate(der, fp, cert)
        except ValueError as exc:
            if der == parsed.signer_certificate:
                raise MalformedSignature(str(exc)) from exc
            continue  # an unusable extra certificate just does not help build a path
        if der == parsed.signer_certificate:
            signer = info
        elif info.basic_ca and taken < _MAX_EXTRA_CERTS:
            taken += 1
            extras.setdefault(info.subject_key, []).append(info)
    if signer is None:  # pragma: no cover - the parser found it among these
        raise MalformedSignature("the signer's certificate is not in the signature")
    return signer, extras


# Path building is bounded per verification (RFC 4158 style loop detection plus budgets), so
# that certificates an attacker puts in the envelope cannot make the search exponential:
# at most _MAX_EXTRA_CERTS CA certificates are taken from the CMS, at most _MAX_EXAMINED
# issuer candidates are looked at, at most _MAX_SIGNATURE_CHECKS signatures are checked
# (memoised by child and issuer key) and at most _MAX_PATHS paths are kept. A path never
# passes twice through the same (subject, public key), and a certificate that led nowhere
# at some depth is not explored again at that depth or deeper.
_MAX_EXTRA_CERTS = 32
_MAX_EXAMINED = 256
_MAX_SIGNATURE_CHECKS = 64
_MAX_PATHS = 4


@dataclass
class _Search:
    """The budget and memo of one path search."""

    examined: int = 0
    signature_checks: int = 0
    exhausted: bool = False
    signatures: dict[tuple[str, bytes], bool] = field(default_factory=dict)
    dead_ends: dict[tuple[bytes, bytes, bytes, bytes | None], int] = field(
        default_factory=dict)


def _class(cert: CertInfo) -> tuple[bytes, bytes, bytes, bytes | None]:
    """What decides where a search can go from ``cert``: its names, key and AKI."""
    return (cert.subject_name, cert.issuer_name, cert.spki, cert.aki)


def _build_paths(signer: CertInfo, extras: dict[bytes, list[CertInfo]], trust: TrustStore,
                 policy: VerifyPolicy, search: _Search | None = None) -> list[_Outcome]:
    """Paths (up to ``_MAX_PATHS``) from the signer to an anchor whose links all verify.

    Bounded: see ``_MAX_EXAMINED`` and friends. ``search.exhausted`` tells whether the
    budget ran out (the caller then answers CERT_UNTRUSTED with that reason).
    """
    search = search if search is not None else _Search()
    found: list[_Outcome] = []

    def walk(path: list[CertInfo], keys: set[tuple[bytes, bytes]]) -> None:
        top = path[-1]
        if trust.is_anchor(top):
            found.append(_Outcome(list(path)))
            return
        depth = len(path)
        if depth >= policy.max_path_length:
            return
        before = len(found)
        for issuer in trust.issuer_candidates(top, extras):
            if len(found) >= _MAX_PATHS or search.exhausted:
                return
            key = (issuer.subject_name, issuer.spki)
            anchor = trust.is_anchor(issuer)
            if key in keys and not anchor:
                continue  # a loop: this name and key are already on the path
            if not anchor and search.dead_ends.get(_class(issuer), sys.maxsize) <= depth:
                continue  # its like was explored at this depth or nearer: nothing there
            search.examined += 1
            if search.examined > _MAX_EXAMINED:
                search.exhausted = True
                return
            memo = (top.fingerprint, issuer.spki)
            answer = search.signatures.get(memo)
            if answer is None:
                if search.signature_checks >= _MAX_SIGNATURE_CHECKS:
                    search.exhausted = True
                    return
                search.signature_checks += 1
                answer = search.signatures[memo] = trust.signed(top, issuer)
            if answer:
                path.append(issuer)
                keys.add(key)
                walk(path, keys)
                keys.discard(key)
                path.pop()
        if len(found) == before and not search.exhausted:
            search.dead_ends[_class(top)] = min(
                depth - 1, search.dead_ends.get(_class(top), sys.maxsize))

    walk([signer], {(signer.subject_name, signer.spki)})
    return found


def _check_content(parsed: ParsedSignature, payload: bytes, signer: CertInfo, rule: CaRule,
                   policy: VerifyPolicy) -> None:
    digest_name = parsed.digest_name
    if digest_name not in policy.digest_algorithms:
        raise _Fail(Reason.SIGNATURE_INVALID, f"digest algorithm {digest_name} not accepted")
    algorithm = _HASHES[digest_name]
    if parsed.signed_attributes_der is not None:
        digest = hashes.Hash(algorithm)
        digest.update(payload)
        if not hmac.compare_digest(digest.finalize(), parsed.message_digest or b""):
            raise _Fail(Reason.SIGNATURE_INVALID, "the payload does not match messageDigest")
        signed = parsed.signed_attributes_der
    else:
        signed = payload
    try:
        key = signer.public_key
    except ValueError as exc:
        raise _Fail(Reason.SIGNATURE_INVALID, str(exc)) from exc
    oid = parsed.signature_algorithm
    try:
        if oid in oids.SM2 or (oid == oids.EC_PUBLIC_KEY and signer.is_sm2):
            if digest_name != "sm3" or not signer.is_sm2:
                raise _Fail(Reason.SIGNATURE_INVALID, "SM2 needs an SM2 key and SM3")
            if not sm2.verify(key, parsed.signature_value, signed, rule.sm2_signer_id):
                raise InvalidSignature
        elif oid in oids.RSA_PKCS1 or oid == oids.RSA_PSS:
            if not isinstance(key, rsa.RSAPublicKey):
                raise _Fail(Reason.SIGNATURE_INVALID, "an RSA signature needs an RSA key")
            if key.key_size < policy.min_rsa_bits:
                raise _Fail(Reason.SIGNATURE_INVALID, f"RSA key of {key.key_size} bits")
            pad: padding.AsymmetricPadding
            if oid == oids.RSA_PSS:
                pad = _pss_padding(parsed, digest_name)
            else:
                if oids.RSA_PKCS1[oid] not in (None, digest_name):
                    raise _Fail(Reason.SIGNATURE_INVALID, "signature and digest hashes differ")
                pad = padding.PKCS1v15()
            key.verify(parsed.signature_value, signed, pad, algorithm)
        elif oid in oids.ECDSA:
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise _Fail(Reason.SIGNATURE_INVALID, "an ECDSA signature needs an EC key")
            if key.curve.name not in policy.ec_curves:
                raise _Fail(Reason.SIGNATURE_INVALID, f"curve {key.curve.name} not accepted")
            if oids.ECDSA[oid] not in (None, digest_name) or digest_name == "sm3":
                raise _Fail(Reason.SIGNATURE_INVALID, "signature and digest hashes differ")
            key.verify(parsed.signature_value, signed, ec.ECDSA(algorithm))
        else:
            raise _Fail(Reason.SIGNATURE_INVALID, f"signature algorithm {oid} not accepted")
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise _Fail(Reason.SIGNATURE_INVALID, "the signature does not verify") from exc


def _pss_padding(parsed: ParsedSignature, digest_name: str) -> padding.PSS:
    parameters = parsed.pss_parameters
    if parameters is None:
        raise _Fail(Reason.SIGNATURE_INVALID, "RSASSA-PSS without parameters")
    # Absent fields mean SHA-1 and MGF1-SHA-1 (RFC 4055 defaults): refused as too weak.
    hash_id = parameters.hash_algorithm
    mgf = parameters.mask_gen_algorithm
    hash_name = oids.DIGEST_NAMES.get(hash_id.algorithm.dotted_string) if hash_id else None
    mgf_hash = oids.DIGEST_NAMES.get(mgf.parameters.algorithm.dotted_string) \
        if mgf is not None and mgf.parameters is not None else None
    if hash_name != digest_name or mgf is None or \
            mgf.algorithm.dotted_string != oids.MGF1 or mgf_hash not in _HASHES or \
            mgf_hash == "sm3" or parameters.trailer_field not in (None, 1):
        raise _Fail(Reason.SIGNATURE_INVALID, "RSASSA-PSS parameters not accepted")
    salt = 20 if parameters.salt_length is None else parameters.salt_length
    return padding.PSS(mgf=padding.MGF1(_HASHES[mgf_hash]), salt_length=salt)


def _evaluate(outcome: _Outcome, trust: TrustStore, now: datetime, times: Sequence[datetime],
              policy: VerifyPolicy) -> None:
    """Fill ``outcome.reason`` with the most fundamental problem of this path, if any."""
    path = outcome.path
    problems: list[tuple[Reason, str]] = []
    for depth, cert in enumerate(path):
        if cert.unhandled_critical:
            problems.append((Reason.CERT_UNTRUSTED, f"unprocessed critical extension "
                             f"{cert.unhandled_critical[0]} at depth {depth}"))
        if depth == 0:
            continue
        if not cert.basic_ca:
            problems.append((Reason.CERT_UNTRUSTED, f"issuer at depth {depth} is not a CA"))
        elif cert.key_usage is not None and not cert.key_usage.key_cert_sign:
            problems.append((Reason.CERT_UNTRUSTED, f"CA at depth {depth} may not sign certs"))
        # pathLen counts the non-self-issued intermediate CAs below this one (RFC 5280 6.1.4).
        below = sum(1 for c in path[1:depth] if not c.self_issued)
        if cert.path_length is not None and below > cert.path_length:
            problems.append((Reason.CERT_UNTRUSTED, f"pathLen of the CA at depth {depth} "
                             "exceeded"))
    policy_problem = _check_policies(path, policy) or _check_name_constraints(path)
    if policy_problem:
        problems.append((Reason.CERT_UNTRUSTED, policy_problem))
    for depth, cert in enumerate(path):
        for label, moment in (("now", now), *(("signing time", t) for t in times)):
            if moment > cert.not_after:
                problems.append((Reason.CERT_EXPIRED,
                                 f"certificate at depth {depth} expired before {label}"))
            elif moment < cert.not_before:
                problems.append((Reason.CERT_NOT_YET_VALID,
                                 f"certificate at depth {depth} not yet valid at {label}"))
    signer = path[0]
    if signer.basic_ca:
        problems.append((Reason.CERT_USAGE, "the signer certificate is a CA certificate"))
    usage = signer.key_usage
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        problems.append((Reason.CERT_USAGE, "key usage allows neither digitalSignature nor "
                         "nonRepudiation"))
    allowed = trust.rule_for(path).signing_ekus or policy.signing_ekus
    if signer.eku is not None and not signer.eku & allowed:
        problems.append((Reason.CERT_USAGE, "extended key usage does not allow signing"))
    if policy.require_revocation and not any(p[0] is Reason.CERT_UNTRUSTED for p in problems):
        for depth, cert in enumerate(path[:-1]):
            status = trust.revocation(cert, path[depth + 1], now, path[-1])
            outcome.revocations.append((cert, status))
            if status.status == "revoked":
                problems.append((Reason.CERT_REVOKED, f"certificate at depth {depth} revoked"))
            elif status.status == "unknown":
                problems.append((Reason.REVOCATION_UNKNOWN, f"no current CRL for the "
                                 f"certificate at depth {depth}"))
    if problems:
        outcome.reason, outcome.message = min(problems, key=lambda p: _PRECEDENCE[p[0]])


def _check_policies(path: Sequence[CertInfo], policy: VerifyPolicy) -> str | None:
    """RFC 5280 6.1.3 (d)-(f), 6.1.4 (a)-(b), (h)-(j), 6.1.5: None, or what failed.

    The valid-policy tree is kept as the set of the expected policies of its leaves (with
    ``ANY_POLICY`` for an anyPolicy leaf), and beside it the set of the authority-domain
    policies (valid_policy of the depth-1 nodes) those leaves descend from, which is what
    the user-initial-policy-set is intersected with (6.1.5 g). The anchor (last) is input.
    """
    certs = list(reversed(path[:-1]))  # certificate 1 (below the anchor) .. n (signer)
    n = len(certs)
    explicit = 0 if policy.initial_explicit_policy else n + 1
    inhibit_any = 0 if policy.initial_any_policy_inhibit else n + 1
    mapping = 0 if policy.initial_policy_mapping_inhibit else n + 1
    # leaf expected policy -> the authority-domain policies it descends from
    tree: dict[str, frozenset[str]] | None = {ANY_POLICY: frozenset({ANY_POLICY})}
    for i, cert in enumerate(certs, start=1):
        depth = len(path) - 1 - i
        if tree is not None and cert.policies is not None:
            allow_any = ANY_POLICY in cert.policies and (
                inhibit_any > 0 or (i < n and cert.self_issued))
            grown: dict[str, frozenset[str]] = {}
            for oid in cert.policies - {ANY_POLICY}:  # 6.1.3 (d)(1)
                roots = tree.get(oid) or tree.get(ANY_POLICY)
                if roots is not None:
                    grown[oid] = frozenset({oid}) if i == 1 else roots
            if allow_any:  # 6.1.3 (d)(2): every leaf not yet matched lives on
                for oid, roots in tree.items():
                    grown.setdefault(oid, roots)
            tree = grown or None
        elif cert.policies is None:
            tree = None  # 6.1.3 (e)
        if explicit <= 0 and tree is None:  # 6.1.3 (f)
            return f"RFC 5280 6.1.3 (f): no valid policy at depth {depth} while an " \
                "explicit policy is required"
        if i == n:
            break
        if cert.policy_mappings:  # 6.1.4 (a), (b)
            if any(ANY_POLICY in pair for pair in cert.policy_mappings):
                return f"RFC 5280 6.1.4 (a): anyPolicy mapped at depth {depth}"
            if tree is not None:
                targets: dict[str, set[str]] = {}
                for issuer_domain, subject_domain in cert.policy_mappings:
                    targets.setdefault(issuer_domain, set()).add(subject_domain)
                mapped = dict(tree)
                for issuer_domain, subjects in targets.items():
                    roots = tree.get(issuer_domain)
                    if roots is None and mapping > 0 and ANY_POLICY in tree:
                        roots = frozenset({issuer_domain}) if i == 1 else tree[ANY_POLICY]
                    if roots is None:
                        continue
                    mapped.pop(issuer_domain, None)
                    if mapping > 0:
                        for subject_domain in subjects:
                            mapped[subject_domain] = mapped.get(
                                subject_domain, frozenset()) | roots
                tree = mapped or None
        if not cert.self_issued:  # 6.1.4 (h)
            explicit, mapping, inhibit_any = (max(explicit - 1, 0), max(mapping - 1, 0),
                                              max(inhibit_any - 1, 0))
        if cert.policy_constraints is not None:  # 6.1.4 (i)
            require, inhibit = cert.policy_constraints
            if require is not None:
                explicit = min(explicit, require)
            if inhibit is not None:
                mapping = min(mapping, inhibit)
        if cert.inhibit_any is not None:  # 6.1.4 (j)
            inhibit_any = min(inhibit_any, cert.inhibit_any)
    signer = certs[-1] if certs else None
    if signer is not None:  # 6.1.5 (a), (b)
        # Only a decrement to 0 can matter; self_issued may parse the signer's names.
        if explicit == 1 and not signer.self_issued:
            explicit = 0
        if signer.policy_constraints is not None and signer.policy_constraints[0] == 0:
            explicit = 0
    if tree is not None and ANY_POLICY not in policy.initial_policy_set:  # 6.1.5 (g)
        kept = {oid: roots for oid, roots in tree.items()
                if ANY_POLICY in roots or roots & policy.initial_policy_set
                or (oid in policy.initial_policy_set and ANY_POLICY in roots)}
        tree = kept or None
    if tree is None and explicit <= 0:
        return "RFC 5280 6.1.5 (g): the valid-policy tree is empty while an explicit " \
            "policy is required"
    return None


_NAME_TYPES = (x509.DirectoryName, x509.RFC822Name, x509.DNSName,
               x509.UniformResourceIdentifier, x509.IPAddress)


def _check_name_constraints(path: Sequence[CertInfo]) -> str | None:
    """RFC 5280 6.1.3 (b)-(c), 6.1.4 (g): None, or which name broke which constraint.

    directoryName, rfc822Name (and emailAddress in the subject), dNSName, URI and IP
    constraints are processed; a constraint of another form is refused with this reason.
    """
    certs = list(reversed(path[:-1]))
    permitted: list[list[x509.GeneralName]] = []  # each constraining CA's permitted subtrees
    excluded: list[x509.GeneralName] = []
    for i, cert in enumerate(certs, start=1):
        depth = len(path) - 1 - i
        if (permitted or excluded) and not (cert.self_issued and i < len(certs)):
            for name in _names_of(cert):
                for subtrees in permitted:
                    same = [c for c in subtrees if type(c) is type(name)]
                    if same and not any(_within(name, c) for c in same):
                        return f"RFC 5280 6.1.3 (b): a name of the certificate at depth " \
                            f"{depth} is outside the permitted subtrees"
                if any(type(c) is type(name) and _within(name, c) for c in excluded):
                    return f"RFC 5280 6.1.3 (c): a name of the certificate at depth " \
                        f"{depth} is in an excluded subtree"
        if i == len(certs):
            break
        try:
            ext = cert.cert.extensions.get_extension_for_class(x509.NameConstraints)
        except x509.ExtensionNotFound:
            continue
        value = ext.value
        for subtree in (*(value.permitted_subtrees or ()), *(value.excluded_subtrees or ())):
            if not isinstance(subtree, _NAME_TYPES):
                return f"name constraint of an unsupported form at depth {depth}"
        if value.permitted_subtrees is not None:
            permitted.append(list(value.permitted_subtrees))
        excluded.extend(value.excluded_subtrees or ())
    return None


def _names_of(cert: CertInfo) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    subject = cert.cert.subject
    if len(subject):
        names.append(x509.DirectoryName(subject))
    for attribute in subject.get_attributes_for_oid(x509.NameOID.EMAIL_ADDRESS):
        if isinstance(attribute.value, str):
            names.append(x509.RFC822Name(attribute.value))
    try:
        san = cert.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return names
    names.extend(n for n in san.value if isinstance(n, _NAME_TYPES))
    return names


def _rdn_key(rdn: x509.RelativeDistinguishedName) -> frozenset[tuple[str, str]]:
    return frozenset((a.oid.dotted_string, " ".join(str(a.value).lower().split()))
                     for a in rdn)


def _host_within(host: str, constraint: str) -> bool:
    host, constraint = host.lower().rstrip("."), constraint.lower().rstrip(".")
    if constraint.startswith("."):
        return host.endswith(constraint)
    return host == constraint or host.endswith("." + constraint)


def _within(name: x509.GeneralName, constraint: x509.GeneralName) -> bool:
    if isinstance(name, x509.DirectoryName) and isinstance(constraint, x509.DirectoryName):
        rdns, prefix = list(name.value.rdns), list(constraint.value.rdns)
        return len(prefix) <= len(rdns) and all(
            _rdn_key(a) == _rdn_key(b) for a, b in zip(rdns, prefix, strict=False))
    if isinstance(name, x509.RFC822Name) and isinstance(constraint, x509.RFC822Name):
        mailbox, wanted = name.value, constraint.value
        if "@" in wanted:
            local, _, host = mailbox.rpartition("@")
            w_local, _, w_host = wanted.rpartition("@")
            return local == w_local and host.lower() == w_host.lower()
        host = mailbox.rpartition("@")[2].lower()
        wanted = wanted.lower()
        return host.endswith(wanted) if wanted.startswith(".") else host == wanted
    if isinstance(name, x509.DNSName) and isinstance(constraint, x509.DNSName):
        return _host_within(name.value, constraint.value)
    if isinstance(name, x509.UniformResourceIdentifier) and \
            isinstance(constraint, x509.UniformResourceIdentifier):
        host = urlsplit(name.value).hostname or ""
        wanted = constraint.value.lower()
        return host.lower().endswith(wanted) if wanted.startswith(".") else \
            host.lower() == wanted
    if isinstance(name, x509.IPAddress) and isinstance(constraint, x509.IPAddress):
        network = constraint.value
        return isinstance(network, ipaddress.IPv4Network | ipaddress.IPv6Network) and \
            not isinstance(name.value, ipaddress.IPv4Network | ipaddress.IPv6Network) and \
            name.value.version == network.version and name.value in network
    return False


# --- the report ----------------------------------------------------------------------------


def _library_versions() -> dict[str, str | None]:
    return dict(_versions(sm2.tongsuopy_version()))


@functools.cache
def _versions(tongsuopy: str | None) -> tuple[tuple[str, str | None], ...]:
    import asn1crypto
    import cryptography

    return (("cryptography", cryptography.__version__), ("asn1crypto", asn1crypto.__version__),
            ("tongsuopy", tongsuopy), ("python", ".".join(map(str, sys.version_info[:3]))))


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo is UTC else moment.astimezone(UTC)).isoformat()


def _verdict(reason: Reason | None, message: str | None, parsed: ParsedSignature | None,
             signer: CertInfo | None, outcome: _Outcome | None, now: datetime,
             signed_at: datetime | None) -> Verdict:
    try:
        return _report(reason, message, parsed, signer, outcome, now, signed_at)
    except Exception as exc:
        # The report reads certificate fields that no check needed; one that does not
        # render makes the signature malformed rather than the verifier crash.
        if parsed is None and signer is None and outcome is None:
            raise  # pragma: no cover - nothing left that could fail
        return _verdict(Reason.MALFORMED, f"unreportable {type(exc).__name__}", None, None,
                        None, now, signed_at)


def _report(reason: Reason | None, message: str | None, parsed: ParsedSignature | None,
            signer: CertInfo | None, outcome: _Outcome | None, now: datetime,
            signed_at: datetime | None) -> Verdict:
    indeterminate = reason is Reason.REVOCATION_UNKNOWN
    indication = "TOTAL_PASSED" if reason is None else \
        "INDETERMINATE" if indeterminate else "TOTAL_FAILED"
    report: dict[str, Any] = {
        "policy": POLICY_NAME,
        "indication": indication,
        "sub_indication": reason.value if reason else None,
        "message": message,
        "validation_time": _iso(now),
        "claimed_signing_time": _iso(signed_at),
        "libraries": _library_versions(),
    }
    if parsed is not None:
        report["signature"] = {
            "format": "CMS detached", "wrapper": parsed.wrapper,
            "digest_algorithm": parsed.digest_name,
            "signature_algorithm": parsed.signature_name,
            "signed_attributes": parsed.signed_attributes,
            "signing_time": _iso(parsed.signing_time),
        }
    if signer is not None:
        issuer = outcome.path[1].subject_text() if outcome is not None and \
            len(outcome.path) > 1 else signer.issuer_text()
        report["signer"] = {
            "subject": signer.subject_text(), "issuer": issuer,
            "serial_number": format(signer.serial, "x"), "sha256": signer.fingerprint,
            "not_before": _iso(signer.not_before), "not_after": _iso(signer.not_after),
        }
    if outcome is not None:
        report["chain"] = [{"subject": cert.subject_text(), "sha256": cert.fingerprint,
                            "trust_anchor": index == len(outcome.path) - 1}
                           for index, cert in enumerate(outcome.path)]
        report["revocation"] = [_revocation_entry(cert, status)
                                for cert, status in outcome.revocations]
    return Verdict(reason=reason, indeterminate=indeterminate, report=report,
                   signer_fingerprint=signer.fingerprint if signer is not None else None)


def _revocation_entry(cert: CertInfo, status: RevocationStatus) -> dict[str, Any]:
    entry: dict[str, Any] = {"certificate_sha256": cert.fingerprint, "status": status.status}
    if status.crl is not None:
        entry["crl"] = dict(status.crl.report_entry)
    if status.entry is not None:
        entry["revoked_at"] = _iso(status.entry.revoked_at)
        entry["revocation_reason"] = status.entry.reason
    return entry
