"""The audit chain verifier: every single mutation, deletion or reordering is found."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from chalicelib import audit
from chalicelib.audit import GENESIS, Link, SignedHead

CHAIN = "20261123ABCDEFGHJK"
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
KINDS = ["RECEIVED", "ACCEPTED", "IN_REVIEW", "STAFF_READ", "DECISION", "APPROVED", "NOTIFIED"]
N = len(KINDS)


def chain(n: int = N) -> list[Link]:
    links: list[Link] = []
    prev = GENESIS
    for seq in range(n):
        at = START + timedelta(minutes=seq)
        data = {"step": seq, "department": "gsj"}
        digest = audit.record_hash(CHAIN, seq, at, KINDS[seq % N], "route", seq % 2 == 0, data,
                                   prev)
        links.append(Link(seq, at, KINDS[seq % N], "route", seq % 2 == 0, data, prev, digest))
        prev = digest
    return links


def reseq(links: list[Link]) -> list[Link]:
    """The stored order after a change: DynamoDB returns records sorted by their key."""
    return sorted(links, key=lambda link: link.seq)


def test_an_intact_chain_holds() -> None:
    verdict = audit.verify(CHAIN, chain())
    assert verdict.ok and verdict.records == N and verdict.reason == ""


def test_the_hash_is_the_case_logs() -> None:
    from chalicelib.store import caselog

    link = chain()[3]
    assert caselog.record_hash(CHAIN, link.seq, link.at, link.kind, link.actor, link.public,
                               dict(link.data), link.prev_hash) == link.hash


@pytest.mark.parametrize("position", range(N))
@pytest.mark.parametrize("field", ["data", "kind", "actor", "at", "public"])
def test_mutating_any_record_is_found_at_that_record(position: int, field: str) -> None:
    links = chain()
    original = links[position]
    changed = {"data": {**original.data, "step": 99}, "kind": "WITHDRAWN", "actor": "fp:insider",
               "at": original.at + timedelta(hours=1), "public": not original.public}[field]
    links[position] = dataclasses.replace(original, **{field: changed})
    verdict = audit.verify(CHAIN, links)
    assert verdict.first_broken == position, verdict


@pytest.mark.parametrize("position", range(N))
def test_rehashing_a_mutated_record_breaks_the_next_link(position: int) -> None:
    links = chain()
    original = links[position]
    data = {**original.data, "step": 99}
    links[position] = dataclasses.replace(original, data=data, hash=audit.record_hash(
        CHAIN, original.seq, original.at, original.kind, original.actor, original.public, data,
        original.prev_hash))
    verdict = audit.verify(CHAIN, links)
    if position < N - 1:
        assert verdict.first_broken == position + 1, verdict
    else:  # the newest record: only a signed head can tell (see below)
        assert verdict.ok


@pytest.mark.parametrize("position", range(N - 1))
def test_deleting_any_record_but_the_newest_is_found_there(position: int) -> None:
    links = chain()
    del links[position]
    verdict = audit.verify(CHAIN, links)
    assert verdict.first_broken == position and "missing" in verdict.reason


@pytest.mark.parametrize(("i", "j"), [(i, j) for i in range(N) for j in range(i + 1, N)])
def test_reordering_any_two_records_is_found_at_the_first(i: int, j: int) -> None:
    links = chain()
    # Swapping the contents of two sequence numbers: the key stays, the content moves.
    a, b = links[i], links[j]
    links[i] = dataclasses.replace(b, seq=a.seq)
    links[j] = dataclasses.replace(a, seq=b.seq)
    verdict = audit.verify(CHAIN, reseq(links))
    assert verdict.first_broken == i, verdict


def _key() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return private, der


def _signed(private: ec.EllipticCurvePrivateKey, link: Link) -> SignedHead:
    at = "2026-11-23T02:00:00+00:00"
    signature = private.sign(audit.head_statement(CHAIN, link.seq, link.hash, at),
                             ec.ECDSA(hashes.SHA256()))
    return SignedHead(CHAIN, link.seq, link.hash, at, "key-1", signature)


def test_a_signed_head_finds_the_newest_record_deleted() -> None:
    private, public = _key()
    links = chain()
    head = _signed(private, links[-1])
    assert audit.verify(CHAIN, links, [head], public).ok
    verdict = audit.verify(CHAIN, links[:-1], [head], public)
    assert verdict.first_broken == N - 1 and "removed" in verdict.reason


def test_a_signed_head_finds_a_rebuilt_chain() -> None:
    private, public = _key()
    links = chain()
    heads = [_signed(private, links[2]), _signed(private, links[-1])]
    # An insider with write access rewrites record 4 and re-hashes everything after it.
    rebuilt = links[:4]
    prev = links[3].hash
    for link in links[4:]:
        data = {**link.data, "step": 99} if link.seq == 4 else link.data
        digest = audit.record_hash(CHAIN, link.seq, link.at, link.kind, link.actor, link.public,
                                   data, prev)
        rebuilt.append(dataclasses.replace(link, data=data, prev_hash=prev, hash=digest))
        prev = digest
    verdict = audit.verify(CHAIN, rebuilt, heads, public)
    assert verdict.first_broken == 3 and "rewritten" in verdict.reason


def test_a_forged_head_is_refused() -> None:
    private, public = _key()
    other, _ = _key()
    links = chain()
    forged = _signed(other, links[-1])
    assert audit.signature_holds(_signed(private, links[-1]), public)
    assert not audit.signature_holds(forged, public)
    verdict = audit.verify(CHAIN, links, [forged], public)
    assert not verdict.ok and "signature" in verdict.reason
