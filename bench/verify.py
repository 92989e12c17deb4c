"""Benchmark: full signature verifications per second and per core, against two yardsticks.

For an RSA, an EC (P-256) and an SM2 citizen, each signing an application with signed
attributes (as ``openssl cms -sign`` does), it measures in one process (one core):

- ours: ``verify_detached`` end to end (parse, content signature, path, CRLs, identity,
  report) against a trust store built once, as the verify function keeps it. "repeat" is
  the same signer again (an agent filing many applications: its certificate's parse is
  remembered, its signatures are still checked); "new" forgets that before every call;
- floor: only the raw signature verifications that any verifier must do on that chain (the
  content signature, leaf <- intermediate, intermediate <- root), keys preloaded;
- pyHanko: ``async_validate_detached_cms`` on the same signature, one ValidationContext
  reused (its best case), CRLs given (pyHanko has no SM2: n/a).

Run ``python bench/verify.py`` (or ``--quick``). It builds its PKI in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding  # noqa: E402

from chalicelib.signature import (  # noqa: E402
    TrustStore,
    parse_envelope_signature,
    verify_detached,
)
from chalicelib.signature import sm2 as sm2_module  # noqa: E402
from tools.pki import Identity, Pki, build_pki  # noqa: E402
from tools.signing import sign_detached  # noqa: E402

PAYLOAD = ('{"service_code": "441200-001", "applicant": {"kind": "person", "id": "ID"}, '
           '"form": {"名称": "示例", "地址": "肇庆市端州区"}, "attachments": [], '
           '"signed_at": "2026-11-23T10:00:00+08:00", "nonce": "bench"}').encode()
CASES = (("RSA-2048", "rsa_citizen"), ("EC P-256", "ec_citizen"), ("SM2", "sm2_citizen"))


def rate(function: Callable[[], object], seconds: float) -> float:
    """Calls per CPU second of ``function`` over a run of about ``seconds``.

    CPU time of this process, not wall time: the figure is per core, and a busy neighbour
    on a shared machine does not count against us.
    """
    function()  # warm caches and lazy imports
    calls = 0
    start = time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        for _ in range(20):
            function()
        calls += 20
    return calls / elapsed


def best_rates(functions: list[Callable[[], object] | None], seconds: float,
               rounds: int = 3) -> list[float | None]:
    """The best rate of each function over ``rounds`` interleaved rounds (noise-resistant)."""
    best: list[float | None] = [None] * len(functions)
    for _ in range(rounds):
        for index, function in enumerate(functions):
            if function is not None:
                measured = rate(function, seconds / rounds)
                best[index] = max(best[index] or 0.0, measured)
    return best


def floor_function(identity: Identity, pki: Pki, signature: bytes) -> Callable[[], None]:
    """The three raw verifications of this chain, keys and bytes prepared beforehand."""
    parsed = parse_envelope_signature(signature)
    assert parsed.signed_attributes_der is not None and parsed.signer_certificate is not None
    leaf = x509.load_der_x509_certificate(parsed.signer_certificate)
    chain = x509.load_pem_x509_certificates(identity.chain.read_bytes())
    root_path = pki.sm2_root if identity.name.startswith("sm2") else pki.root
    root = x509.load_pem_x509_certificate(root_path.read_bytes())
    links = [(leaf, chain[0]), (chain[0], root)]
    checks: list[Callable[[], None]] = []
    if identity.name.startswith("sm2"):
        from tongsuopy.crypto import hashes as t_hashes
        from tongsuopy.crypto.asymciphers import ec as t_ec

        algorithm = t_ec.ECDSA(t_hashes.SM3())

        def sm2_key(cert: x509.Certificate) -> object:
            from asn1crypto import x509 as asn1_x509

            spki = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))["tbs_certificate"][
                "subject_public_key_info"]
            return sm2_module.load_public_key(spki.dump())

        def sm2_check(key: object, sig: bytes, data: bytes) -> Callable[[], None]:
            return lambda: key.verify(sig, data, algorithm)  # type: ignore[attr-defined]

        checks.append(sm2_check(sm2_key(leaf), parsed.signature_value,
                                parsed.signed_attributes_der))
        checks += [sm2_check(sm2_key(issuer), child.signature, child.tbs_certificate_bytes)
                   for child, issuer in links]
    else:
        checks.append(_crypto_check(leaf.public_key(), parsed.signature_value,
                                    parsed.signed_attributes_der, padding.PKCS1v15(),
                                    hashes.SHA256()))
        checks += [_crypto_check(issuer.public_key(), child.signature,
                                 child.tbs_certificate_bytes,
                                 child.signature_algorithm_parameters,
                                 child.signature_hash_algorithm) for child, issuer in links]

    def run() -> None:
        for check in checks:
            check()

    return run


def _crypto_check(key: object, sig: bytes, data: bytes, pad: object,
                  algorithm: object) -> Callable[[], None]:
    if isinstance(key, rsa.RSAPublicKey):
        return lambda: key.verify(sig, data, pad, algorithm)  # type: ignore[arg-type]
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return lambda: key.verify(sig, data, ec.ECDSA(algorithm))  # type: ignore[arg-type]


def pyhanko_function(pki: Pki, signature: bytes, now: datetime) -> Callable[[], None]:
    """pyHanko's validate_detached_cms on ``signature``, its context reused."""
    from asn1crypto import cms, pem
    from asn1crypto import crl as asn1_crl
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.validation import async_validate_detached_cms
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )

    def cert(path: Path) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(pem.unarmor(path.read_bytes())[2])

    required = RevocationCheckingRule.CRL_REQUIRED
    context = ValidationContext(
        trust_roots=[cert(pki.root)], other_certs=[cert(pki.intermediate)],
        crls=[asn1_crl.CertificateList.load(p.read_bytes())
              for p in (pki.root_crl, pki.intermediate_crl)],
        allow_fetching=False, moment=now,
        revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(required, required)))
    usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"})
    loop = asyncio.new_event_loop()

    def run() -> None:
        # Parsing the CMS is part of the work, as it is in ours.
        signed_data = cms.ContentInfo.load(signature)["content"]
        status = loop.run_until_complete(async_validate_detached_cms(
            PAYLOAD, signed_data, signer_validation_context=context, key_usage_settings=usage))
        assert status.bottom_line

    return run


def main(argv: list[str] | None = None) -> int:
    """Build a PKI, sign, measure, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (about 10 s in all)")
    args = parser.parse_args(argv)
    seconds = 0.6 if args.quick else 3.0
    import logging

    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="onestop-bench-") as tmp:
        pki = build_pki(Path(tmp) / "pki")
        trust = TrustStore.from_objects(pki.trust_objects())
        now = pki.reference_time + timedelta(hours=1)
        rows: list[tuple[str, list[float | None]]] = []
        for label, name in CASES:
            identity = pki[name]
            signature = sign_detached(PAYLOAD, identity.cert_pem(), identity.key_pem(),
                                      identity.chain_pems())
            verdict = verify_detached(PAYLOAD, signature, trust, now=now,
                                      applicant_id=identity.id_number)
            assert verdict.valid, verdict.report

            def repeat(signature: bytes = signature, identity: Identity = identity) -> None:
                verify_detached(PAYLOAD, signature, trust, now=now,
                                applicant_id=identity.id_number)

            def new(signature: bytes = signature, identity: Identity = identity) -> None:
                trust.clear_cache()
                verify_detached(PAYLOAD, signature, trust, now=now,
                                applicant_id=identity.id_number)

            pyhanko = None if name.startswith("sm2") else \
                pyhanko_function(pki, signature, now)
            rates = best_rates([repeat, new, floor_function(identity, pki, signature), pyhanko],
                               seconds)
            rows.append((label, rates))
    import cryptography

    print(f"verify_detached, one core; Python {sys.version.split()[0]}, cryptography "
          f"{cryptography.__version__}, tongsuopy {sm2_module.tongsuopy_version()}")
    print(f"{'chain':<10}{'repeat/s':>10}{'new/s':>8}{'floor/s':>9}{'pyHanko/s':>11}"
          f"{'vs pyHanko':>16}{'vs floor':>14}")
    for label, (repeat_rate, new_rate, floor_rate, pyhanko_rate) in rows:
        assert repeat_rate and new_rate and floor_rate
        versus = f"{repeat_rate / pyhanko_rate:.1f}x/{new_rate / pyhanko_rate:.1f}x" \
            if pyhanko_rate else "n/a"
        pyhanko_text = f"{pyhanko_rate:.0f}" if pyhanko_rate else "n/a"
        print(f"{label:<10}{repeat_rate:>10.0f}{new_rate:>8.0f}{floor_rate:>9.0f}"
              f"{pyhanko_text:>11}{versus:>16}"
              f"{f'{repeat_rate / floor_rate:.2f}/{new_rate / floor_rate:.2f}':>14}")
    print("ratios are repeat/new signer; floor: the content signature and the leaf's and the\n"
          "intermediate's certificate signatures, nothing else.")
    for label, milliseconds, reason in pathological():
        print(f"pathological: {label}: {milliseconds:.1f} ms CPU per verification ({reason})")
    return 0


def pathological() -> list[tuple[str, float, str]]:
    """CPU time of one verification of envelopes made to explode path building (issue 11).

    100 CA certificates with one subject and one key, and a 10-deep mesh of CAs each
    certified by both keys of the level above; no path reaches an anchor.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    now = datetime(2026, 11, 23, 10, 0).astimezone()

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, cn)])

    def cert(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
             issuer_key: ec.EllipticCurvePrivateKey, ca: bool) -> bytes:
        built = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                 .public_key(key.public_key()).serial_number(x509.random_serial_number())
                 .not_valid_before(now - timedelta(days=1))
                 .not_valid_after(now + timedelta(days=30))
                 .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
                 .sign(issuer_key, hashes.SHA256()))
        return built.public_bytes(Encoding.PEM)

    def key() -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    root_key = key()
    trust = TrustStore.from_objects(
        {"roots/r.pem": cert(name("Root"), root_key, name("Root"), root_key, True)})
    evil_key, leaf_key = key(), key()
    same = [cert(name("Evil"), evil_key, name("Evil"), evil_key, True) for _ in range(100)]
    keys = [[key(), key()] for _ in range(11)]
    mesh = [cert(name(f"M{level}"), child, name(f"M{level + 1}"), parent, True)
            for level in range(10) for child in keys[level] for parent in keys[level + 1]]
    leaf_pem = leaf_key.private_bytes(Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    results = []
    for label, issuer, issuer_key, chain in (
            ("100 CAs, one subject and key", name("Evil"), evil_key, same),
            ("10-deep cross-signed mesh", name("M0"), keys[0][0], mesh)):
        leaf = cert(name("Signer"), leaf_key, issuer, issuer_key, False)
        signature = sign_detached(PAYLOAD, leaf, leaf_pem, chain)
        start = time.process_time()
        runs = 20
        for _ in range(runs):
            trust.clear_cache()
            verdict = verify_detached(PAYLOAD, signature, trust, now=now, applicant_id="ID")
        elapsed = (time.process_time() - start) / runs * 1000
        results.append((label, elapsed, f"{verdict.reason}: {verdict.report['message']}"))
    return results


if __name__ == "__main__":
    sys.exit(main())
