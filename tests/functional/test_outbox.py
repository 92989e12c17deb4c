"""No application is lost between two steps: a process killed between storing an application
and delivering its outbox leaves the outbox owing, and the sweeper delivers it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from chalicelib import clients, outbox, queues, runtime, storage, verification, workflow
from chalicelib.catalog import load_services
from chalicelib.contract import Status
from chalicelib.names import Bucket, Queue
from chalicelib.store import cases, catalog, steps
from tests.e2e.conftest import free_port
from tests.functional.applicants import draft, envelope, openssl_cms_sign, upload_materials
from tests.functional.conftest import REGION, local_environment
from tools import deploy, moto_patches

ROOT = Path(__file__).resolve().parents[2]

# Runs in a separate process: intake as the API runs it, then the process dies right after
# the application is stored and before the queue message is sent.
KILLED_SUBMITTER = textwrap.dedent("""
    import os, sys
    from datetime import datetime, UTC
    from chalicelib import outbox, runtime, submission

    def crash(*args, **kwargs):
        os._exit(9)

    outbox.deliver = crash
    submission.outbox.deliver = crash
    body = sys.stdin.buffer.read()
    submission.submit(body, runtime.ready(), datetime.now(UTC))
    os._exit(0)
""")


@pytest.fixture
def server(pki, monkeypatch):
    moto_patches.apply()
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    env = local_environment() | {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "x",
                                 "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION,
                                 "AWS_REGION": REGION}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runtime.reset()
    deploy.deploy(boto3.client("cloudformation", region_name=REGION, endpoint_url=endpoint),
                  "local")
    settings = runtime.ready()
    catalog.publish([s.to_dict() for s in load_services()])
    for key, data in pki.trust_objects().items():
        storage.put(settings.bucket(Bucket.TRUST), key, data)
    verification.trust_cache.clear()
    yield env
    moto.stop()
    runtime.reset()
    clients.reset()


def test_killed_between_store_and_queue_then_swept(server, pki, tmp_path) -> None:
    settings = runtime.ready()
    identity = pki["ec_citizen"]
    d = draft("person", identity)
    upload_materials(settings, d)
    payload = d.payload()
    body = envelope(payload, openssl_cms_sign(identity, payload, tmp_path)).encode()
    sqs = boto3.client("sqs", region_name=REGION)
    verify_url = queues.queue_url(settings.queue(Queue.VERIFY))
    sqs.purge_queue(QueueUrl=verify_url)  # moto's backends are shared by the whole session
    before = set(steps.owing(datetime.now(UTC) + timedelta(minutes=2)))
    killed = subprocess.run([sys.executable, "-c", KILLED_SUBMITTER], check=False, input=body,
                            cwd=ROOT,
                            env={**os.environ, **server, "PYTHONPATH": str(ROOT)},
                            capture_output=True, timeout=120)
    assert killed.returncode == 9, killed.stderr.decode()[-2000:]

    assert "Messages" not in sqs.receive_message(QueueUrl=verify_url)
    stuck = [r for r in steps.owing(datetime.now(UTC) + timedelta(minutes=2))
             if r not in before]
    assert len(stuck) == 1
    receipt = stuck[0]
    assert cases.get(receipt, consistent=True).status == Status.RECEIVED.value

    # Within the grace period the sweeper leaves it alone (the API may still be sending).
    assert outbox.sweep(settings, datetime.now(UTC)) == 0
    assert outbox.sweep(settings, datetime.now(UTC) + timedelta(minutes=2)) == 1 + len(before)
    # The sweeper hands the case to the route worker, which delivers its outbox.
    route_url = queues.queue_url(settings.queue(Queue.ROUTE))
    relays = [json.loads(m["Body"]) for m in sqs.receive_message(
        QueueUrl=route_url, MaxNumberOfMessages=10).get("Messages", [])]
    assert {"kind": "relay", "receipt": receipt} in relays
    for relay in relays:
        workflow.handle(settings, relay, datetime.now(UTC))
    messages = sqs.receive_message(QueueUrl=verify_url)["Messages"]
    assert {"receipt": receipt} in [json.loads(m["Body"]) for m in messages]
    assert steps.owing(datetime.now(UTC) + timedelta(minutes=2)) == []

    verification.handle(settings, {"receipt": receipt}, datetime.now(UTC), 1)
    assert cases.get(receipt, consistent=True).status == Status.ACCEPTED.value
