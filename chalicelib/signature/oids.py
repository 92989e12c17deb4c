"""Object identifiers the verifier speaks (dotted strings).

The GM/T 0010 wrapper uses its own content type OIDs for exactly the structures that
PKCS#7 names ``data`` and ``signedData``.
"""

from __future__ import annotations

PKCS7_DATA = "1.2.840.113549.1.7.1"
PKCS7_SIGNED_DATA = "1.2.840.113549.1.7.2"
GM_DATA = "1.2.156.10197.6.1.4.2.1"
GM_SIGNED_DATA = "1.2.156.10197.6.1.4.2.2"
DATA_TYPES = frozenset({PKCS7_DATA, GM_DATA})

# Digests (signer's digestAlgorithm).
SHA256 = "2.16.840.1.101.3.4.2.1"
SHA384 = "2.16.840.1.101.3.4.2.2"
SHA512 = "2.16.840.1.101.3.4.2.3"
SM3 = "1.2.156.10197.1.401"
DIGEST_NAMES = {SHA256: "sha256", SHA384: "sha384", SHA512: "sha512", SM3: "sm3"}

# Signature algorithms (signer's signatureAlgorithm).
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
RSA_PSS = "1.2.840.113549.1.1.10"
MGF1 = "1.2.840.113549.1.1.8"
SHA256_RSA = "1.2.840.113549.1.1.11"
SHA384_RSA = "1.2.840.113549.1.1.12"
SHA512_RSA = "1.2.840.113549.1.1.13"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
ECDSA_SHA384 = "1.2.840.10045.4.3.3"
ECDSA_SHA512 = "1.2.840.10045.4.3.4"
SM2_WITH_SM3 = "1.2.156.10197.1.501"
SM2_SIGN = "1.2.156.10197.1.301.1"  # GM/T 0006 "SM2-1", what GM/T 0010 signers often write
SM2_CURVE = "1.2.156.10197.1.301"

RSA_PKCS1 = {RSA_ENCRYPTION: None, SHA256_RSA: "sha256", SHA384_RSA: "sha384",
             SHA512_RSA: "sha512"}
ECDSA = {EC_PUBLIC_KEY: None, ECDSA_SHA256: "sha256", ECDSA_SHA384: "sha384",
         ECDSA_SHA512: "sha512"}
SM2 = frozenset({SM2_WITH_SM3, SM2_SIGN})
SIGNATURE_NAMES = {
    RSA_ENCRYPTION: "rsa_pkcs1v15", SHA256_RSA: "sha256_rsa", SHA384_RSA: "sha384_rsa",
    SHA512_RSA: "sha512_rsa", RSA_PSS: "rsassa_pss", EC_PUBLIC_KEY: "ecdsa",
    ECDSA_SHA256: "sha256_ecdsa", ECDSA_SHA384: "sha384_ecdsa", ECDSA_SHA512: "sha512_ecdsa",
    SM2_WITH_SM3: "sm2_sm3", SM2_SIGN: "sm2_sign",
}

# Signed attributes.
ATTR_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ATTR_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ATTR_SIGNING_TIME = "1.2.840.113549.1.9.5"

# Extended key usages.
EKU_ANY = "2.5.29.37.0"
EKU_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
EKU_EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4"
EKU_DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"  # RFC 9336
EKU_MS_DOCUMENT_SIGNING = "1.3.6.1.4.1.311.10.3.12"

SUBJECT_SERIAL_NUMBER = "2.5.4.5"

