"""SM2 signatures with SM3 (GB/T 32918, GM/T 0009), through tongsuopy.

An SM2 signature covers ``SM3(Z || message)`` where ``Z`` binds the signer's public key and
signer ID (GM/T 0009 default ``1234567812345678``). tongsuopy's public ``verify``/``sign``
compute ``Z`` with that default ID; for another ID we compute ``Z`` here and use
tongsuopy's raw SM2 operation on the resulting digest (``EVP_PKEY_verify``/``EVP_PKEY_sign``
on the SM2 key), which its public API does not expose.

cryptography has no SM2, so keys from certificates are loaded from their SubjectPublicKeyInfo.
tongsuopy is imported on first use: RSA/EC verifications never pay for it.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives import hashes

DEFAULT_SIGNER_ID = b"1234567812345678"

# GB/T 32918.5 curve parameters that enter Z.
_A = bytes.fromhex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC")
_B = bytes.fromhex("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93")
_G = bytes.fromhex("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
                   "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0")


@functools.cache
def _tongsuo() -> Any:
    from tongsuopy.backends.tongsuo.backend import backend
    from tongsuopy.crypto import hashes as t_hashes
    from tongsuopy.crypto import serialization as t_serialization
    from tongsuopy.crypto.asymciphers import ec as t_ec

    return SimpleNamespace(backend=backend, hashes=t_hashes, serialization=t_serialization,
                           ec=t_ec)


def tongsuopy_version() -> str | None:
    """The tongsuopy version, or None when it has not been needed yet."""
    import sys

    module = sys.modules.get("tongsuopy")
    return getattr(module, "__version__", None) if module else None


def load_public_key(spki_der: bytes) -> Any:
    """An SM2 public key from its DER SubjectPublicKeyInfo; ValueError if it is not one."""
    t = _tongsuo()
    try:
        key = t.serialization.load_der_public_key(spki_der)
    except Exception as exc:  # tongsuopy raises several types for bad input
        raise ValueError(f"not a usable SM2 public key: {exc}") from exc
    if getattr(getattr(key, "curve", None), "name", None) != "SM2":
        raise ValueError("the public key is not on the SM2 curve")
    return key


def load_private_key(pem: bytes, password: bytes | None = None) -> Any:
    """An SM2 private key from PEM (PKCS#8 or SEC1, as openssl writes them)."""
    t = _tongsuo()
    key = t.serialization.load_pem_private_key(pem, password)
    if getattr(getattr(key, "curve", None), "name", None) != "SM2":
        raise ValueError("the private key is not on the SM2 curve")
    return key


def _sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def z_value(public_key: Any, signer_id: bytes) -> bytes:
    """GM/T 0009 ``Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA)``."""
    if len(signer_id) * 8 > 0xFFFF:
        raise ValueError("the SM2 signer ID is too long")
    t = _tongsuo()
    point = public_key.public_bytes(t.serialization.Encoding.X962,
                                    t.serialization.PublicFormat.UncompressedPoint)
    return _sm3((len(signer_id) * 8).to_bytes(2, "big") + signer_id + _A + _B + _G + point[1:])


def verify(public_key: Any, signature: bytes, data: bytes,
           signer_id: bytes = DEFAULT_SIGNER_ID) -> bool:
    """Whether ``signature`` (DER r, s) is a valid SM2/SM3 signature over ``data``."""
    t = _tongsuo()
    if signer_id == DEFAULT_SIGNER_ID:
        try:
            public_key.verify(signature, data, t.ec.ECDSA(t.hashes.SM3()))
        except Exception:  # InvalidSignature, or an internal error on garbage input
            return False
        return True
    digest = _sm3(z_value(public_key, signer_id) + data)
    lib, ffi = t.backend._lib, t.backend._ffi
    ctx = ffi.gc(lib.EVP_PKEY_CTX_new(public_key._evp_pkey, ffi.NULL), lib.EVP_PKEY_CTX_free)
    ok = (ctx != ffi.NULL and lib.EVP_PKEY_verify_init(ctx) == 1
          and lib.EVP_PKEY_verify(ctx, signature, len(signature), digest, len(digest)) == 1)
    t.backend._consume_errors()  # leave no error on the thread's queue for the next caller
    return bool(ok)


def sign(private_key: Any, data: bytes, signer_id: bytes = DEFAULT_SIGNER_ID) -> bytes:
    """A DER SM2/SM3 signature over ``data`` with ``signer_id``."""
    t = _tongsuo()
    if signer_id == DEFAULT_SIGNER_ID:
        return bytes(private_key.sign(data, t.ec.ECDSA(t.hashes.SM3())))
    digest = _sm3(z_value(private_key.public_key(), signer_id) + data)
    lib, ffi = t.backend._lib, t.backend._ffi
    ctx = ffi.gc(lib.EVP_PKEY_CTX_new(private_key._evp_pkey, ffi.NULL), lib.EVP_PKEY_CTX_free)
    size = ffi.new("size_t *", 80)
    out = ffi.new("unsigned char[]", 80)
    if (ctx == ffi.NULL or lib.EVP_PKEY_sign_init(ctx) != 1
            or lib.EVP_PKEY_sign(ctx, out, size, digest, len(digest)) != 1):
        t.backend._consume_errors()
        raise ValueError("SM2 signing failed")
    return bytes(ffi.buffer(out)[: size[0]])
