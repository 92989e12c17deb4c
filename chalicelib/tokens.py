"""Short-lived access tokens (JWT, ES256) signed by a key the platform holds in KMS.

Signing goes through a callable (KMS ``Sign`` in production), so the private key never leaves
KMS; verification uses PyJWT with the public keys, looked up by ``kid``. Several keys may be
valid at once, which is how the key rotates without downtime: new tokens are signed with the
new key while tokens from the old one stay valid until they expire.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from chalicelib.errors import Unauthorized
from chalicelib.principal import Principal, Role

ISSUER = "onestop"
AUDIENCE = "onestop-api"
LIFETIME = timedelta(minutes=30)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issue(principal: Principal, *, kid: str, sign_der: Callable[[bytes], bytes], now: datetime,
          lifetime: timedelta = LIFETIME, token_id: str = "") -> str:
    """A signed token for ``principal``; ``sign_der`` returns a DER ECDSA P-256 signature."""
    header = {"alg": "ES256", "typ": "JWT", "kid": kid}
    claims: dict[str, Any] = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": principal.subject, "role": principal.role.value,
        "iat": int(now.timestamp()), "nbf": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    if principal.department:
        claims["dept"] = principal.department
    if principal.display:
        claims["name"] = principal.display
    if token_id:
        claims["jti"] = token_id
    signing_input = ".".join(_b64(json.dumps(part, separators=(",", ":")).encode())
                             for part in (header, claims))
    r, s = decode_dss_signature(sign_der(signing_input.encode()))
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def verify(token: str, public_keys: Mapping[str, Any], *, now: datetime) -> Principal:
    """The principal of a valid token; ``Unauthorized`` for anything else."""
    try:
        kid = str(jwt.get_unverified_header(token).get("kid"))
        key = public_keys[kid]
        # PyJWT would read the clock itself; expiry is checked against the given ``now``.
        claims = jwt.decode(token, key, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "role"],
                                     "verify_iat": False, "verify_exp": False,
                                     "verify_nbf": False})
        if not claims.get("nbf", claims["iat"]) <= now.timestamp() < claims["exp"]:
            raise jwt.ExpiredSignatureError("outside the token's validity")
        return Principal(Role(claims["role"]), str(claims["sub"]), claims.get("dept"),
                         str(claims.get("name", "")))
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise Unauthorized("登录凭证无效或已过期，请重新登录", "invalid or expired token",
                           code="INVALID_TOKEN") from exc

