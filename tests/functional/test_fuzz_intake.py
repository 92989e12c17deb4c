"""Random and mutated envelopes thrown at intake and verify: never a 5xx, never a crashed
handler, never anything half-stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from chalicelib import verification
from chalicelib.contract import Status
from chalicelib.names import Bucket
from chalicelib.store import cases
from tests.functional.applicants import draft, envelope, openssl_cms_sign, upload_materials

FUZZ = hsettings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


def _stored_objects(settings) -> int:
    s3 = boto3.client("s3", region_name="cn-north-1")
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=settings.bucket(Bucket.UPLOADS), Prefix="applications/")
    return sum(len(p.get("Contents", [])) for p in pages)


def _application_count() -> int:
    from chalicelib.store.models import ApplicationModel

    return ApplicationModel.count()


@FUZZ
@given(raw=st.one_of(st.binary(max_size=2000),
                     st.builds(lambda p, s: json.dumps({"payload": p, "signature": s}).encode(),
                               st.text(max_size=200), st.text(max_size=200))))
def test_random_bodies_get_4xx_and_store_nothing(api, settings, raw: bytes) -> None:
    before = (_stored_objects(settings), _application_count())
    answer = api.http.post("/applications", body=raw, headers={"Content-Type":
                                                                "application/json"})
    assert 400 <= answer.status_code < 500, answer.body
    assert "error" in json.loads(answer.body)
    assert (_stored_objects(settings), _application_count()) == before


@FUZZ
@given(data=st.data())
def test_mutated_signatures_never_crash_verify(api, sqs, settings, trusted, tmp_path_factory,
                                               data: st.DataObject) -> None:
    identity = trusted["ec_citizen"]
    d = draft("person", identity)
    upload_materials(settings, d)
    payload = d.payload()
    signature = bytearray(openssl_cms_sign(identity, payload, tmp_path_factory.mktemp("fz")))
    # Positions are drawn as fractions: ECDSA signatures differ in length from run to run.
    for _ in range(data.draw(st.integers(1, 4))):
        at = int(data.draw(st.floats(0, 1, exclude_max=True)) * len(signature))
        signature[at] = data.draw(st.integers(0, 255))
    before = (_stored_objects(settings), _application_count())
    answer = api.http.post("/applications", body=envelope(payload, bytes(signature)),
                           headers={"Content-Type": "application/json"})
    assert answer.status_code < 500, answer.body
    if answer.status_code != 202:
        assert (_stored_objects(settings), _application_count()) == before
        return
    receipt = json.loads(answer.body)["receipt"]
    verification.handle(settings, {"receipt": receipt}, datetime.now(UTC), 1)
    decided = cases.get(receipt, consistent=True)
    # A mutation outside what is signed (an unsigned field) may still be accepted; anything
    # else is rejected with a reason code. Either way the handler decided; it did not crash.
    assert decided.status in (Status.ACCEPTED.value, Status.REJECTED.value)
    assert decided.status == Status.ACCEPTED.value or decided.reason
