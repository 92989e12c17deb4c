"""Path building is bounded: certificates carried in the envelope cannot make it explode.

Before the bound, n CA certificates with one subject and one key (no root) made the search
visit every ordering of them: 12.6 s at n=12, no answer at n=100 (issue 11). The tests
assert the verdict and the number of signature checks, not the time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.contract import Reason
from chalicelib.signature import TrustStore, verify_detached
from chalicelib.signature import verify as verify_module
from tests.unit.signature.conftest import PAYLOAD
from tests.unit.signature.test_path_rules import ID, NO_CRL, _cert, _key_pem, _name, _pem
from tools.signing import sign_detached


@pytest.fixture(scope="module")
def moment() -> datetime:
    return datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    original = TrustStore.signed

    def signed(self, child, issuer):
        calls[0] += 1
        return original(self, child, issuer)

    monkeypatch.setattr(TrustStore, "signed", signed)
    return calls


def _unrelated_trust(moment: datetime) -> TrustStore:
    key = ec.generate_private_key(ec.SECP256R1())
    root = _cert(_name("Real Root"), key, _name("Real Root"), key, moment, ca=True)
    return TrustStore.from_objects({"roots/real.pem": _pem(root)})


def test_one_hundred_cas_with_one_subject_and_key(moment, counted):
    key = ec.generate_private_key(ec.SECP256R1())
    evil = _name("Evil CA")
    cas = [_cert(evil, key, evil, key, moment, ca=True) for _ in range(100)]
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(_name("Signer", ID), leaf_key, evil, key, moment, ca=False)
    signature = sign_detached(PAYLOAD, _pem(leaf), _key_pem(leaf_key), [_pem(c) for c in cas])
    verdict = verify_detached(PAYLOAD, signature, _unrelated_trust(moment), now=moment,
                              applicant_id=ID, policy=NO_CRL)
    assert verdict.reason is Reason.CERT_UNTRUSTED
    # One key signs everything: the leaf's signature is checked once, no loop is walked.
    assert counted[0] <= 2


def test_ten_deep_mesh_of_cross_signed_cas(moment, counted):
    # Two keys per level, each level's name certified by both keys of the level above.
    keys = [[ec.generate_private_key(ec.SECP256R1()) for _ in range(2)] for _ in range(11)]
    names = [_name(f"Mesh CA {level}") for level in range(11)]
    cas = [_cert(names[level], child, names[level + 1], parent, moment, ca=True)
           for level in range(10) for child in keys[level] for parent in keys[level + 1]]
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(_name("Signer", ID), leaf_key, names[0], keys[0][0], moment, ca=False)
    signature = sign_detached(PAYLOAD, _pem(leaf), _key_pem(leaf_key), [_pem(c) for c in cas])
    verdict = verify_detached(PAYLOAD, signature, _unrelated_trust(moment), now=moment,
                              applicant_id=ID, policy=NO_CRL)
    assert verdict.reason is Reason.CERT_UNTRUSTED
    assert counted[0] <= verify_module._MAX_SIGNATURE_CHECKS


def test_bounded_search_still_finds_a_real_path(moment):
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert(_name("Real Root"), root_key, _name("Real Root"), root_key, moment, ca=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert(_name("Real CA"), ca_key, root.subject, root_key, moment, ca=True)
    decoys = [_cert(_name("Real CA"), ca_key, _name("Real CA"), ca_key, moment, ca=True)
              for _ in range(20)]
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(_name("Signer", ID), leaf_key, ca.subject, ca_key, moment, ca=False)
    signature = sign_detached(PAYLOAD, _pem(leaf), _key_pem(leaf_key),
                              [*(_pem(d) for d in decoys), _pem(ca)])
    trust = TrustStore.from_objects({"roots/real.pem": _pem(root)})
    verdict = verify_detached(PAYLOAD, signature, trust, now=moment, applicant_id=ID,
                              policy=NO_CRL)
    assert verdict.valid, verdict.report["message"]
