"""CA signatures on applications: parse the envelope's CMS, verify it against the trust store.

Public API::

    TrustStore.from_objects(objects, ca_rules=None) -> TrustStore
    parse_envelope_signature(signature) -> ParsedSignature        # raises MalformedSignature
    verify_detached(payload, signature, trust, *, now, applicant_id, signed_at=None,
                    policy=None) -> Verdict

Pure functions of their inputs: no AWS, no clock, no logging.
"""

from __future__ import annotations

from chalicelib.signature.envelope import ParsedSignature, parse_envelope_signature
from chalicelib.signature.errors import MalformedSignature, SignatureError
from chalicelib.signature.sm2 import DEFAULT_SIGNER_ID as DEFAULT_SM2_SIGNER_ID
from chalicelib.signature.trust import DEFAULT_SIGNING_EKUS, CaRule, TrustStore
from chalicelib.signature.verify import DEFAULT_POLICY, Verdict, VerifyPolicy, verify_detached

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_SIGNING_EKUS",
    "DEFAULT_SM2_SIGNER_ID",
    "CaRule",
    "MalformedSignature",
    "ParsedSignature",
    "SignatureError",
    "TrustStore",
    "Verdict",
    "VerifyPolicy",
    "parse_envelope_signature",
    "verify_detached",
]
