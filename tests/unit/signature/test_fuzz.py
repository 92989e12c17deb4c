"""Fuzz: whatever the bytes, verify_detached answers a Verdict and the parser raises only
MalformedSignature."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.contract import Reason
from chalicelib.signature import (
    MalformedSignature,
    Verdict,
    parse_envelope_signature,
    verify_detached,
)
from tests.unit.signature.conftest import PAYLOAD

FUZZ = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _check(signature: bytes, trust, now) -> Verdict:
    with contextlib.suppress(MalformedSignature):  # any other exception fails the test
        parse_envelope_signature(signature)
    verdict = verify_detached(PAYLOAD, signature, trust, now=now, applicant_id="x")
    assert isinstance(verdict, Verdict)
    assert isinstance(verdict.reason, Reason)  # nothing here is valid for applicant "x"
    # The last-resort handler turns surprises into MALFORMED; none should be needed.
    assert not (verdict.report.get("message") or "").startswith(("unexpected", "unreportable")), \
        verdict.report
    json.dumps(verdict.report)
    return verdict


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes(data, trust, now):
    assert _check(data, trust, now).reason is Reason.MALFORMED


@st.composite
def mutations(draw, originals):
    original = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        position = draw(st.integers(0, max(len(original) - 1, 0)))
        if kind == "flip" and original:
            original[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and original:
            original[position] = draw(st.integers(0, 255))
        elif kind == "insert":
            original[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and original:
            del original[position:position + draw(st.integers(1, 8))]
        elif kind == "truncate":
            del original[position:]
    return bytes(original)


def test_mutated_valid_signatures(corpus, trust, now):
    originals = [c.signature for c in corpus if c.expected is None][::2]

    @FUZZ
    @given(signature=mutations(originals))
    def run(signature):
        _check(signature, trust, now)

    run()
