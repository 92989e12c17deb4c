"""The signature suite's fixtures: one PKI per session (tools.pki) and a signed corpus.

RSA/EC signatures come from ``openssl cms -sign`` itself (the contract's reference), SM2 ones
from ``tools.signing``; every entry says which reason code the verifier must give.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.contract import Reason
from chalicelib.signature import TrustStore
from tools.pki import Identity, Pki, build_pki
from tools.signing import sign_detached

PAYLOAD = ('{"service_code": "441200-001", "applicant": {"kind": "person", "id": "ID"}, '
           '"form": {"名称": "示例"}, "attachments": [], "nonce": "n-1"}').encode()

# Expected outcome per identity, for a correct signature by its own key.
EXPECTED: dict[str, Reason | None] = {
    "rsa_citizen": None, "ec_citizen": None, "ec384_citizen": None, "company": None,
    "officer": None, "sm2_citizen": None,
    "expired": Reason.CERT_EXPIRED, "not_yet_valid": Reason.CERT_NOT_YET_VALID,
    "revoked": Reason.CERT_REVOKED, "no_usage": Reason.CERT_USAGE,
    "untrusted": Reason.CERT_UNTRUSTED,
}


@dataclass(frozen=True)
class Case:
    """One signature of the corpus and the verdict it must get."""

    label: str
    identity: Identity
    signature: bytes
    expected: Reason | None
    payload: bytes = PAYLOAD
    openssl: bool = field(default=True)  # made by (and checkable with) the openssl CLI


def openssl_sign(identity: Identity, payload: bytes, tmp: Path, *extra: str,
                 chain: bool = True) -> bytes:
    """``openssl cms -sign -binary -outform DER`` over ``payload``: the contract's recipe."""
    source = tmp / "payload.bin"
    source.write_bytes(payload)
    args = ["openssl", "cms", "-sign", "-binary", "-in", str(source), "-signer",
            str(identity.cert), "-inkey", str(identity.key), "-outform", "DER", *extra]
    if chain and identity.chain.read_bytes().strip():
        args += ["-certfile", str(identity.chain)]
    return subprocess.run(args, check=True, capture_output=True).stdout


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """The test PKI, built once per session."""
    return build_pki(tmp_path_factory.mktemp("signature") / "pki")


@pytest.fixture(scope="session")
def now(pki: Pki) -> datetime:
    """A validation time at which the valid certificates and the CRLs are current."""
    return pki.reference_time + timedelta(hours=1)


@pytest.fixture(scope="session")
def trust(pki: Pki) -> TrustStore:
    """Anchors, intermediates and CRLs of the PKI, as the trust bucket would hold them."""
    return TrustStore.from_objects(pki.trust_objects())


@pytest.fixture(scope="session")
def corpus(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    """Signatures over PAYLOAD by every identity, in the variants the contract allows."""
    tmp = tmp_path_factory.mktemp("corpus")
    cases: list[Case] = []
    for name, expected in EXPECTED.items():
        identity = pki[name]
        if name == "sm2_citizen":
            continue
        cases.append(Case(f"{name}/attrs", identity, openssl_sign(identity, PAYLOAD, tmp),
                          expected))
        cases.append(Case(f"{name}/noattr", identity,
                          openssl_sign(identity, PAYLOAD, tmp, "-noattr"), expected))
    rsa, ec, ec384 = pki["rsa_citizen"], pki["ec_citizen"], pki["ec384_citizen"]
    for md in ("sha256", "sha384", "sha512"):
        cases.append(Case(f"rsa_citizen/pss-{md}", rsa, openssl_sign(
            rsa, PAYLOAD, tmp, "-md", md, "-keyopt", "rsa_padding_mode:pss"), None))
        cases.append(Case(f"rsa_citizen/pss-{md}-noattr", rsa, openssl_sign(
            rsa, PAYLOAD, tmp, "-md", md, "-keyopt", "rsa_padding_mode:pss", "-noattr"), None))
    for md in ("sha384", "sha512"):
        cases.append(Case(f"rsa_citizen/{md}", rsa, openssl_sign(rsa, PAYLOAD, tmp, "-md", md),
                          None))
        cases.append(Case(f"ec_citizen/{md}", ec, openssl_sign(ec, PAYLOAD, tmp, "-md", md),
                          None))
        cases.append(Case(f"ec384_citizen/{md}-noattr", ec384,
                          openssl_sign(ec384, PAYLOAD, tmp, "-md", md, "-noattr"), None))
    cases.append(Case("rsa_citizen/no-chain", rsa, openssl_sign(rsa, PAYLOAD, tmp, chain=False),
                      None))
    sm2 = pki["sm2_citizen"]
    for wrapper in ("pkcs7", "gmt0010"):
        for attrs in (True, False):
            signature = sign_detached(PAYLOAD, sm2.cert_pem(), sm2.key_pem(), sm2.chain_pems(),
                                      signed_attributes=attrs, wrapper=wrapper)  # type: ignore[arg-type]
            cases.append(Case(f"sm2_citizen/{wrapper}{'' if attrs else '-noattr'}", sm2,
                              signature, None, openssl=False))
    return cases
