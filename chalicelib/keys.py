"""KMS: the platform's asymmetric signing key (licences, audit heads, tokens)."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from chalicelib.clients import client

ALGORITHM = "ECDSA_SHA_256"


def sign(key_id: str, message: bytes) -> bytes:
    """Sign ``message`` (its SHA-256 digest) with the platform key; DER ECDSA signature."""
    digest = hashlib.sha256(message).digest()
    response = client("kms").sign(KeyId=key_id, Message=digest, MessageType="DIGEST",
                                  SigningAlgorithm=ALGORITHM)
    return bytes(response["Signature"])


@lru_cache(maxsize=4)
def public_key_der(key_id: str) -> bytes:
    """The platform key's public half (SubjectPublicKeyInfo DER), for offline verification."""
    return bytes(client("kms").get_public_key(KeyId=key_id)["PublicKey"])


def describe(key_id: str) -> dict[str, str]:
    """Key id, spec and usage; used by the health check."""
    meta = client("kms").describe_key(KeyId=key_id)["KeyMetadata"]
    return {"key_id": meta["KeyId"], "spec": meta.get("KeySpec", ""),
            "usage": meta.get("KeyUsage", "")}
