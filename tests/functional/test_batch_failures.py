"""One poison message ends in the DLQ after its retries; its neighbours are processed once."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from chalicelib import names
from chalicelib.catalog import load_services
from chalicelib.contract import Status
from chalicelib.names import Queue
from chalicelib.store import caselog, catalog
from chalicelib.store.models import ApplicationModel
from tests.functional.conftest import REGION, queue_url
from tools.lambda_shim import invoke_once


def _item() -> dict:
    item = next(s for s in load_services() if s.online)
    catalog.publish([item.to_dict()])
    return item.to_dict()


def _accepted_case(receipt: str, item: dict) -> None:
    now = datetime.now(UTC)
    ApplicationModel(receipt, status=Status.ACCEPTED.value, service_code=item["code"],
                     service_version=item["version"], applicant_key="k",
                     applicant_kind="person", applicant_masked="110***", tracking_hash="h",
                     nonce="n", received_at=now, updated_at=now, payload_key="p",
                     signature_key="s", payload_sha256="0" * 64).save()


def test_poison_message_goes_to_dlq_and_neighbours_are_processed_once(settings, sqs) -> None:
    from app import app

    url = queue_url(sqs, Queue.ROUTE)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    sqs.purge_queue(QueueUrl=url)  # other tests of the session may leave route messages
    receipts = [f"BATCH{i}" for i in range(4)]
    item = _item()
    for receipt in receipts:
        _accepted_case(receipt, item)
    entries = [{"Id": str(i), "MessageBody": f'{{"kind": "open", "receipt": "{r}"}}'}
               for i, r in enumerate(receipts)]
    entries.insert(2, {"Id": "poison", "MessageBody": "{not json"})
    sqs.send_message_batch(QueueUrl=url, Entries=entries)
    handler = app.handler_map[names.Function.ROUTE.value]

    deliveries = 0
    for _ in range(names.MAX_RECEIVE_COUNT + 2):
        # Visibility 0 stands in for the timeout running out: what failed is visible again.
        deliveries += invoke_once(sqs, url, arn, REGION, handler, "route", wait=0,
                                  visibility_timeout=0)

    dlq = boto3.client("sqs", region_name=REGION).get_queue_url(
        QueueName=names.dlq_name(names.queue_name("local", Queue.ROUTE)))["QueueUrl"]
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ["{not json"]
    for receipt in receipts:
        assert ApplicationModel.get(receipt).status == Status.IN_REVIEW.value
        # Processed exactly once: one transition on the timeline.
        kinds = [r.kind for r in caselog.records(receipt)]
        assert kinds.count(Status.IN_REVIEW.value) == 1
    # The neighbours were delivered once; the poison once per allowed receive.
    assert deliveries == len(receipts) + names.MAX_RECEIVE_COUNT
    assert int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessages"]) == 0
