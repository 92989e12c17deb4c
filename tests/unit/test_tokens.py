"""Access tokens: ES256 signed through a callable (KMS in production), verified by ``kid``."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib import tokens
from chalicelib.errors import Unauthorized
from chalicelib.principal import Principal, Role

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
OFFICER = Principal(Role.OFFICER, "fp:abc", "ghj", "赵六")


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _signer(key: ec.EllipticCurvePrivateKey):  # what KMS Sign returns: a DER ECDSA signature
    return lambda message: key.sign(message, ec.ECDSA(hashes.SHA256()))


def _parts(token: str) -> list[dict]:
    return [json.loads(base64.urlsafe_b64decode(p + "==")) for p in token.split(".")[:2]]


def test_a_token_round_trips_its_principal() -> None:
    key = _key()
    token = tokens.issue(OFFICER, kid="k1", sign_der=_signer(key), now=NOW, token_id="t1")
    header, claims = _parts(token)
    assert header == {"alg": "ES256", "typ": "JWT", "kid": "k1"}
    assert claims["exp"] - claims["iat"] == int(tokens.LIFETIME.total_seconds())
    assert (claims["sub"], claims["role"], claims["dept"], claims["jti"]) == (
        "fp:abc", "officer", "ghj", "t1")
    # Any standard JWT library accepts it.
    assert jwt.decode(token, key.public_key(), algorithms=["ES256"], audience=tokens.AUDIENCE,
                      options={"verify_exp": False})["sub"] == "fp:abc"
    assert tokens.verify(token, {"k1": key.public_key()}, now=NOW + timedelta(minutes=5)) == \
        OFFICER


def test_rotation_accepts_every_listed_key_and_only_those() -> None:
    old, new = _key(), _key()
    before = tokens.issue(OFFICER, kid="old", sign_der=_signer(old), now=NOW)
    after = tokens.issue(OFFICER, kid="new", sign_der=_signer(new), now=NOW)
    ring = {"old": old.public_key(), "new": new.public_key()}
    assert tokens.verify(before, ring, now=NOW) == tokens.verify(after, ring, now=NOW)
    with pytest.raises(Unauthorized):
        tokens.verify(before, {"new": new.public_key()}, now=NOW)
    # A kid that names another key than the one that signed does not verify either.
    with pytest.raises(Unauthorized):
        tokens.verify(before, {"old": new.public_key()}, now=NOW)


@pytest.mark.parametrize("moment", [NOW - timedelta(seconds=1), NOW + tokens.LIFETIME,
                                    NOW + timedelta(days=1)])
def test_outside_its_lifetime_a_token_is_refused(moment: datetime) -> None:
    key = _key()
    token = tokens.issue(OFFICER, kid="k", sign_der=_signer(key), now=NOW)
    with pytest.raises(Unauthorized) as refused:
        tokens.verify(token, {"k": key.public_key()}, now=moment)
    assert refused.value.code == "INVALID_TOKEN" and refused.value.status == 401


def test_forged_tokens_are_refused() -> None:
    key = _key()
    ring = {"k": key.public_key()}
    good = tokens.issue(OFFICER, kid="k", sign_der=_signer(key), now=NOW)
    head, claims, signature = good.split(".")
    unsigned = jwt.encode({"sub": "x", "role": "admin", "iss": tokens.ISSUER,
                           "aud": tokens.AUDIENCE, "iat": 0, "exp": 2**40}, None,
                          algorithm="none", headers={"kid": "k"})
    hmac_signed = jwt.encode({"sub": "x", "role": "admin"}, "s" * 32, algorithm="HS256",
                             headers={"kid": "k"})
    promoted = base64.urlsafe_b64encode(json.dumps(
        {**_parts(good)[1], "role": "admin"}).encode()).decode().rstrip("=")
    for token in (unsigned, hmac_signed, f"{head}.{promoted}.{signature}", "garbage",
                  f"{head}.{claims}.", ""):
        with pytest.raises(Unauthorized):
            tokens.verify(token, ring, now=NOW)
