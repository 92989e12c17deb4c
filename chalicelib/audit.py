"""The audit trail: a hash chain per case, signed heads, and who looked at a case.

Every state change, decision, login and staff read is a record of an append-only chain (the
case log, ``chalicelib/store/caselog.py``; logins go to a chain per person, ``login:<subject>``).
Each record carries the SHA-256 of the previous one, so changing, removing or reordering any
record breaks a link. A chain alone cannot show that its newest records were cut off, or that
someone with write access rebuilt the whole chain; so the supervise pass periodically signs each
changed chain's head (sequence number and hash) with the platform's KMS key, and the verifier
checks every record against the chain and every signed head against the records.

The source names insider abuse (道德风险) as a risk: the functions' IAM policies allow only
``PutItem`` on the case log (no update, no delete), appends are conditional on the sequence
number being new, and what a PutItem without its condition could still overwrite is exactly what
the chain and the signed heads detect.

The first half of this module is pure (hashing, head statements, verification); the recorders
below it (``record_read``, ``record_login``, ``views``, ``sign_pending``, ``verify_chain``)
reach the tables through ``chalicelib/store`` and import it on use.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

GENESIS = "0" * 64
LOGIN_CHAIN_PREFIX = "login:"
STAFF_READ = "STAFF_READ"
LOGIN = "LOGIN"


def record_hash(chain: str, seq: int, at: datetime, kind: str, actor: str, public: bool,
                data: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 over the canonical JSON of a record's content and its predecessor's hash.

    The same canonical form as ``store.caselog.record_hash`` (a unit test holds them equal).
    """
    canonical = json.dumps(
        {"receipt": chain, "seq": seq, "at": at.isoformat(), "kind": kind, "actor": actor,
         "public": public, "data": dict(data), "prev": prev_hash},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    """One stored record of a chain, as read."""

    seq: int
    at: datetime
    kind: str
    actor: str
    public: bool
    data: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class SignedHead:
    """A chain head signed with the platform key: "record ``seq`` has hash ``hash``"."""

    chain: str
    seq: int
    hash: str
    signed_at: str
    key_id: str
    signature: bytes


def head_statement(chain: str, seq: int, head_hash: str, signed_at: str) -> bytes:
    """The exact bytes a head signature covers (canonical JSON)."""
    return json.dumps({"chain": chain, "seq": seq, "hash": head_hash, "signed_at": signed_at},
                      sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Verdict:
    """What the verifier found about one chain."""

    chain: str
    records: int
    heads: int
    first_broken: int | None  # sequence number of the first record that does not hold
    reason: str  # why, or "" when the chain holds

    @property
    def ok(self) -> bool:
        """True when every link and every signed head holds."""
        return self.first_broken is None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"chain": self.chain, "ok": self.ok, "records": self.records,
                "signed_heads": self.heads, "first_broken": self.first_broken,
                "reason": self.reason}


def verify(chain: str, links: Sequence[Link], heads: Sequence[SignedHead] = (),
           public_key_der: bytes | None = None) -> Verdict:
    """Check a chain's links and signed heads; report the first broken link.

    ``links`` in stored order (by sequence number). A record is broken when its sequence number
    is not the next one (one was deleted, or records were swapped), when it does not link to
    its predecessor's hash, or when its own hash does not match its content. A signed head whose
    signature verifies must match the record it names; if the chain is shorter, records were
    cut off after the last one present; if the record differs, the chain was rebuilt after the
    last head that still matches.
    """
    prev = GENESIS
    for expected, link in enumerate(links):
        if link.seq != expected:
            why = (f"record {expected} is missing" if link.seq > expected
                   else f"record {link.seq} appears out of order")
            return Verdict(chain, len(links), len(heads), expected, why)
        if link.prev_hash != prev:
            return Verdict(chain, len(links), len(heads), expected,
                           f"record {expected} does not link to record {expected - 1}")
        digest = record_hash(chain, link.seq, link.at, link.kind, link.actor, link.public,
                             link.data, link.prev_hash)
        if digest != link.hash:
            return Verdict(chain, len(links), len(heads), expected,
                           f"record {expected} was changed after it was written")
        prev = link.hash
    good_until = -1  # the newest sequence number a valid signed head vouches for
    for head in sorted(heads, key=lambda h: h.seq):
        if head.chain != chain:
            continue
        if public_key_der is not None and not signature_holds(head, public_key_der):
            return Verdict(chain, len(links), len(heads), head.seq,
                           f"the signature of head {head.seq} does not verify")
        if head.seq >= len(links):
            return Verdict(chain, len(links), len(heads), len(links),
                           f"records {len(links)}…{head.seq} were removed "
                           f"(signed head at {head.seq})")
        if links[head.seq].hash != head.hash:
            return Verdict(chain, len(links), len(heads), good_until + 1,
                           f"records after {good_until} were rewritten "
                           f"(signed head at {head.seq} does not match)")
        good_until = head.seq
    return Verdict(chain, len(links), len(heads), None, "")


def signature_holds(head: SignedHead, public_key_der: bytes) -> bool:
    """Whether ``head``'s ECDSA P-256 / SHA-256 signature verifies with the platform key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    key = load_der_public_key(public_key_der)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(head.signature, head_statement(head.chain, head.seq, head.hash,
                                                  head.signed_at), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def login_chain(subject: str) -> str:
    """The chain of one person's logins."""
    return LOGIN_CHAIN_PREFIX + subject


def viewer(kind: str, data: Mapping[str, Any], at: datetime) -> dict[str, Any] | None:
    """What the applicant may see of a staff read: when, which role, which department."""
    if kind != STAFF_READ:
        return None
    department = data.get("department")
    name = ""
    if department:
        from chalicelib.catalog import department_by_code

        found = department_by_code(str(department))
        name = found.name if found else ""
    role = str(data.get("role") or "")
    return {"at": at.isoformat(), "role": role, "role_zh": ROLE_TEXT_ZH.get(role, role),
            "department": department, "department_name": name,
            "what": data.get("what", "case")}


ROLE_TEXT_ZH = {"officer": "审批人员", "supervisor": "监察人员", "clerk": "窗口人员",
                "admin": "系统管理员"}


# ---------------------------------------------------------------------------- recording


def record_read(receipt: str, principal: Any, at: datetime, *, what: str = "case") -> None:
    """Record that a staff member read a case (call from every staff view of a case).

    The record names the reader's principal key (a certificate fingerprint, never a name or
    identity number), role and department; the applicant sees the role and department only.
    Applicants reading their own case are not recorded.
    """
    from chalicelib.store import audit as store
    from chalicelib.store import caselog

    if getattr(principal, "is_applicant", False):
        return
    at = at.astimezone(UTC)  # the hash covers ``at`` as given; the table keeps it in UTC
    role = getattr(principal.role, "value", str(principal.role))
    caselog.append(receipt, STAFF_READ, actor=str(principal.subject), at=at, public=False,
                   data={"role": role, "department": principal.department, "what": what})
    store.mark_unsigned(receipt, at)


def record_login(principal: Any, at: datetime) -> None:
    """Record a login on the person's own chain (call after a token is issued)."""
    from chalicelib.store import audit as store
    from chalicelib.store import caselog

    chain = login_chain(str(principal.subject))
    at = at.astimezone(UTC)
    role = getattr(principal.role, "value", str(principal.role))
    caselog.append(chain, LOGIN, actor=str(principal.subject), at=at, public=False,
                   data={"role": role, "department": principal.department})
    store.mark_unsigned(chain, at)


def record(receipt: str, kind: str, *, actor: str, at: datetime, data: Mapping[str, Any],
           public: bool = False) -> None:
    """Append a record of supervision itself (a warning, a finding, a rating) and mark the
    chain for signing."""
    from chalicelib.store import audit as store
    from chalicelib.store import caselog

    at = at.astimezone(UTC)
    caselog.append(receipt, kind, actor=actor, at=at, data=dict(data), public=public)
    store.mark_unsigned(receipt, at)


def views(receipt: str) -> list[dict[str, Any]]:
    """Who (role and department) read the case and when, oldest first."""
    from chalicelib.store import caselog

    found = []
    for item in caselog.records(receipt):
        seen = viewer(str(item.kind), dict(item.data or {}), item.at)
        if seen is not None:
            found.append(seen)
    return found


def sign_pending(settings: Any, now: datetime, *, limit: int = 1000) -> int:
    """Sign the head of every chain that changed since its last signed head; returns how many.

    Run by the supervise pass. A chain is marked when a record is appended through this module
    (and by ``caselog.append`` once it calls ``store.audit.mark_unsigned``); the mark is cleared
    only if no append marked it again meanwhile, so no record stays unsigned for long.
    """
    from chalicelib import keys
    from chalicelib.store import audit as store

    signed = 0
    key_id = keys.describe(settings.key_alias)["key_id"]
    for marker in store.pending(limit=limit):
        head = store.chain_head(marker.chain)
        if head is not None:
            seq, digest = head
            at = now.isoformat()
            signature = keys.sign(key_id, head_statement(marker.chain, seq, digest, at))
            store.put_head(SignedHead(marker.chain, seq, digest, at, key_id, signature))
            signed += 1
        store.clear(marker)
    if signed:
        log.info("audit heads signed", extra={"count": signed})
    return signed


def verify_chain(settings: Any, chain: str) -> Verdict:
    """Verify a stored chain against its records, its signed heads and the platform key."""
    from chalicelib import keys
    from chalicelib.store import audit as store

    links = store.links(chain)
    heads = store.heads(chain)
    public: dict[str, bytes] = {}
    for head in heads:
        if head.key_id not in public:
            public[head.key_id] = keys.public_key_der(head.key_id)
    # Each head is checked with the key that signed it (keys rotate).
    for head in heads:
        if not signature_holds(head, public[head.key_id]):
            return Verdict(chain, len(links), len(heads), head.seq,
                           f"the signature of head {head.seq} does not verify")
    return verify(chain, links, heads)
