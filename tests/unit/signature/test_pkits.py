"""NIST PKITS (2011 edition), default settings, end to end through ``verify_detached``.

Data: the PKITS files shipped in the ``cryptography-vectors`` package (pinned in
requirements-dev.txt): ``x509/PKITS_data/{certs,crls,pkcs12}``. Each end-entity pkcs12 key
(password ``password``) signs the payload into a detached CMS; the verifier judges it with
TrustAnchorRootCertificate as the only anchor, every other PKITS CA certificate as an
intermediate and every PKITS CRL, at 2011-04-15 (inside every PKITS validity period).

Expected results: NIST, "Public Key Interoperability Test Suite (PKITS), Certification Path
Validation", version 1.0.1 (2011), section 4, default settings (initial-policy-set
any-policy, initial-explicit-policy, -policy-mapping-inhibit and -any-policy-inhibit all
false). PKITS names every test after its default outcome ("Valid…"/"Invalid…"); the tests of
section 4.8 and two others whose names carry no prefix get the outcome the document gives
(listed in ``_UNPREFIXED``). Section numbers come from the section each name belongs to
(``_SECTIONS``, the document's section titles) and the test's own number.

A "reject" is any verdict but valid or IDENTITY_MISMATCH (PKITS certificates carry no
identity number: a mismatch comes after every path check and so means the path passed).
RSA-1024 keys are accepted here (PKITS predates the 2048-bit floor).

The tally (passed / false accept / false reject) is printed by ``test_pkits_tally``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from chalicelib.contract import Reason
from chalicelib.signature import TrustStore, VerifyPolicy, verify_detached
from tools.signing import load_pkcs12, sign_detached

cryptography_vectors = pytest.importorskip("cryptography_vectors")

DATA = Path(cryptography_vectors.__file__).parent / "x509" / "PKITS_data"
NOW = datetime(2011, 4, 15, tzinfo=UTC)
PAYLOAD = b'{"pkits": true}'
POLICY = VerifyPolicy(min_rsa_bits=1024)

# Section of a test, from its name (first match wins); PKITS section 4 titles.
_SECTIONS: tuple[tuple[str, str], ...] = (
    ("4.9", r"requireExplicitPolicy"),
    ("4.11", r"inhibitPolicyMapping"),
    ("4.12", r"inhibitAnyPolicy"),
    ("4.10", r"PolicyMapping"),
    ("4.13", r"nameConstraints"),
    ("4.15", r"deltaCRL"),
    ("4.14", r"distributionPoint|DistributionPoint|onlyContains|onlySomeReasons|"
             r"IndirectCRL|indirectCRL|cRLIssuer"),
    ("4.16", r"CertificateExtension"),
    ("4.5", r"BasicSelfIssued"),
    ("4.7", r"keyUsage"),
    ("4.6", r"pathLen|basicConstraints|cAFalse"),
    ("4.8", r"Polic|UserNotice|CPSPointer"),
    ("4.3", r"NameChaining|NameUIDs|RFC3280|UTF8String"),
    ("4.2", r"notBefore|notAfter"),
    ("4.1", r"CertificatePath|CASignature|EESignature|DSA"),
    ("4.4", r"."),
)
# Tests whose name does not say the outcome: PKITS 4.8.x, 4.12.3 (default settings).
_UNPREFIXED = {
    "AllCertificatesNoPoliciesTest2": True, "DifferentPoliciesTest3": True,
    "DifferentPoliciesTest4": False, "DifferentPoliciesTest5": False,
    "OverlappingPoliciesTest6": True, "DifferentPoliciesTest7": False,
    "DifferentPoliciesTest8": False, "DifferentPoliciesTest9": False,
    "AllCertificatesSamePoliciesTest10": True, "AllCertificatesanyPolicyTest11": True,
    "DifferentPoliciesTest12": False, "AllCertificatesSamePoliciesTest13": True,
    "AnyPolicyTest14": True, "UserNoticeQualifierTest15": True,
    "UserNoticeQualifierTest16": True, "UserNoticeQualifierTest17": True,
    "UserNoticeQualifierTest18": True, "UserNoticeQualifierTest19": True,
    "CPSPointerQualifierTest20": True, "inhibitAnyPolicyTest3": True,
}
# False rejects that are by design or not yet fixed: name -> reason. Never a false accept.
KNOWN_FALSE_REJECTS: dict[str, str] = {
    "ValidDSASignaturesTest4":
        "by design: DSA keys are not accepted for signing applications",
    "ValidDSAParameterInheritanceTest5":
        "by design: DSA keys are not accepted for signing applications",
    "ValidpathLenConstraintTest8":
        "by design: a CA certificate may not sign an application",
    "ValidpathLenConstraintTest14":
        "by design: a CA certificate may not sign an application",
    "OverlappingPoliciesTest6":
        "by design: a CA certificate may not sign an application",
    "ValiddistributionPointTest4":
        "todo: issuingDistributionPoint distribution point matching not done",
    "ValiddistributionPointTest5":
        "todo: issuingDistributionPoint distribution point matching not done",
    "ValiddistributionPointTest7":
        "todo: issuingDistributionPoint distribution point matching not done",
    "ValidonlyContainsCACertsTest13":
        "by design: a CA certificate may not sign an application",
    "ValidonlySomeReasonsTest18":
        "todo: onlySomeReasons partitioned CRLs not read",
    "ValidonlySomeReasonsTest19":
        "todo: onlySomeReasons partitioned CRLs not read",
    "ValidIDPwithindirectCRLTest22":
        "todo: indirect CRLs (cRLIssuer) not read",
    "ValidIDPwithindirectCRLTest24":
        "todo: indirect CRLs (cRLIssuer) not read",
    "ValidIDPwithindirectCRLTest25":
        "todo: indirect CRLs (cRLIssuer) not read",
    "ValidcRLIssuerTest28":
        "todo: indirect CRLs (cRLIssuer) not read",
    "ValidcRLIssuerTest29":
        "todo: indirect CRLs (cRLIssuer) not read",
    "ValidcRLIssuerTest30":
        "todo: indirect CRLs (cRLIssuer) not read",
    "ValidcRLIssuerTest33":
        "todo: indirect CRLs (cRLIssuer) not read",
}


def _section(name: str) -> str:
    number = re.search(r"Test(\d+)$", name)
    for section, pattern in _SECTIONS:
        if re.search(pattern, name):
            return f"{section}.{number.group(1) if number else '?'}"
    raise AssertionError(name)  # pragma: no cover - the last pattern matches anything


def _expected(name: str) -> bool:
    if name in _UNPREFIXED:
        return _UNPREFIXED[name]
    if name.startswith("Valid"):
        return True
    assert name.startswith("Invalid"), name
    return False


def _cases() -> list[str]:
    if not DATA.is_dir():
        return []
    return sorted(p.name[:-len("EE.p12")] for p in (DATA / "pkcs12").glob("*EE.p12"))


@cache
def _trust() -> TrustStore:
    objects: dict[str, bytes] = {}
    for path in sorted((DATA / "certs").glob("*.crt")):
        if path.name.endswith("EE.crt"):
            continue
        kind = "roots" if path.name == "TrustAnchorRootCertificate.crt" else "intermediates"
        objects[f"{kind}/{path.name}"] = path.read_bytes()
    for path in sorted((DATA / "crls").glob("*.crl")):
        objects[f"crls/{path.name}"] = path.read_bytes()
    return TrustStore.from_objects(objects)


_RESULTS: dict[str, tuple[bool, bool, str]] = {}


def _run(name: str) -> tuple[bool, bool, str]:
    if name not in _RESULTS:
        expected = _expected(name)
        try:  # DSA keys: tools.signing loads and signs with RSA and EC only
            cert_pem, key_pem, _ = load_pkcs12(
                (DATA / "pkcs12" / f"{name}EE.p12").read_bytes(), b"password")
            signature = sign_detached(PAYLOAD, cert_pem, key_pem)
        except ValueError as exc:
            _RESULTS[name] = (expected, False, f"unsigned: {exc}")
            return _RESULTS[name]
        verdict = verify_detached(PAYLOAD, signature, _trust(), now=NOW, applicant_id="-",
                                  policy=POLICY)
        accepted = verdict.reason in (None, Reason.IDENTITY_MISMATCH)
        _RESULTS[name] = (expected, accepted,
                          f"{verdict.reason}: {verdict.report.get('message')}")
    return _RESULTS[name]


def _param(name: str) -> object:
    marks = []
    if name in KNOWN_FALSE_REJECTS:
        assert _expected(name), f"{name}: a false accept may not be marked xfail"
        marks.append(pytest.mark.xfail(reason=KNOWN_FALSE_REJECTS[name], strict=True))
    return pytest.param(name, id=f"{_section(name)}-{name}", marks=marks)


@pytest.mark.parametrize("name", [_param(n) for n in _cases()])
def test_pkits_case(name: str) -> None:
    expected, accepted, detail = _run(name)
    assert accepted == expected, f"PKITS {_section(name)} {name}: expected " \
        f"{'accept' if expected else 'reject'}, got {detail}"


def test_pkits_tally(capsys: pytest.CaptureFixture[str]) -> None:
    names = _cases()
    if not names:
        pytest.skip("cryptography-vectors has no PKITS data")
    passed = false_accepts = false_rejects = 0
    lines = []
    for name in names:
        expected, accepted, detail = _run(name)
        if expected == accepted:
            passed += 1
            continue
        if accepted:
            false_accepts += 1
        else:
            false_rejects += 1
        lines.append(f"  {_section(name):8} {name}: "
                     f"{'FALSE ACCEPT' if accepted else 'false reject'} ({detail})")
    with capsys.disabled():
        print(f"\nPKITS {len(names)} cases: {passed} passed, {false_accepts} false accepts, "
              f"{false_rejects} false rejects")
        print("\n".join(sorted(lines, key=lambda line: [int(x) if x.isdigit() else 0 for x in
                                                        line.split()[0].split(".")])))
    assert false_accepts == 0
