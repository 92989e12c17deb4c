"""Benchmark: N applications through the whole lifecycle in one process, on moto.

Each application of the two-stage item 建设工程竣工联合验收 (three departments, then one) is
signed and submitted over the API, verified by the verify handler, opened by the route handler,
approved by four officers over the API (the next stage opens on the third approval), its licence
issued by the route handler, its notifications delivered, and the licence downloaded. Queue
messages reach the handlers in Lambda's event shape, ten to a batch, as the event source
mapping delivers them (its own receive and delete calls are not ours and are not counted).

Printed per application:

- the AWS calls our code made, by service and operation (a botocore event hook on every client,
  boto3's and pynamodb's);
- the DynamoDB items read and written;
- wall and CPU time of our code (moto answers in-process, so its work is included);
- the floor: the very same AWS calls, with the same parameters, issued back to back by a bare
  botocore client against a fresh deployment of the same stack, and the ratio of ours to it.

Run ``python bench/pipeline.py [-n 200] [--wave 25]``. The applicant's signing, the department
systems and the event source mapping are outside the measured time.

moto copies every table a transaction touches and scans a whole table for an index query, so
its cost per call grows with the data it holds. To measure an application and not moto's growth,
applications run in waves (``--wave``), each on a fresh deployment, and each wave's floor is
replayed on another fresh deployment.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REGION = "cn-north-1"
ITEM = "441200-jsj-0005"
STAGES = (("ghj", "xfzd", "hbj"), ("jsj",))


def _environment() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(config["stages"]["local"]["environment_variables"])
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                       "ONESTOP_PEPPER": "bench-pepper"})


# ---------------------------------------------------------------------------- the hook


@dataclass
class Recorder:
    """Counts and records every AWS call made while ``on`` (a botocore event hook)."""

    on: bool = False
    calls: Counter[str] = field(default_factory=Counter)
    items_read: int = 0
    items_written: int = 0
    in_calls: float = 0.0  # wall seconds spent inside AWS calls (client and moto)
    log: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    _started: float = 0.0

    def install(self) -> None:
        """Register the hooks on every botocore client created from now on."""
        import botocore.session

        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("provide-client-params.*.*", recorder._params)
            client.meta.events.register("after-call.*.*", recorder._after)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.on:
            service = model.service_model.service_name
            self.calls[f"{service}:{model.name}"] += 1
            self.log.append((service, model.name, copy.deepcopy(params)))
            self._started = time.perf_counter()

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if not self.on:
            return
        self.in_calls += time.perf_counter() - self._started
        if model.service_model.service_name != "dynamodb":
            return
        if http_response.status_code >= 300:
            return
        name = model.name
        if name == "GetItem":
            self.items_read += 1 if "Item" in parsed else 0
        elif name in ("Query", "Scan"):
            self.items_read += int(parsed.get("Count", 0))
        elif name == "BatchGetItem":
            self.items_read += sum(len(v) for v in parsed.get("Responses", {}).values())
        elif name == "TransactGetItems":
            self.items_read += len(parsed.get("Responses", []))
        elif name in ("PutItem", "UpdateItem", "DeleteItem"):
            self.items_written += 1
        elif name == "BatchWriteItem":
            sent = self.log[-1][2].get("RequestItems", {})
            left = parsed.get("UnprocessedItems", {})
            self.items_written += (sum(len(v) for v in sent.values())
                                   - sum(len(v) for v in left.values()))
        elif name == "TransactWriteItems":
            for entry in self._last("TransactWriteItems").get("TransactItems", []):
                if "ConditionCheck" in entry:
                    self.items_read += 1
                else:
                    self.items_written += 1

    def _last(self, operation: str) -> dict[str, Any]:
        for _, name, params in reversed(self.log):
            if name == operation:
                return params
        return {}


@dataclass
class Clock:
    """Wall and CPU time of the measured sections."""

    wall: float = 0.0
    cpu: float = 0.0

    @contextmanager
    def measure(self, recorder: Recorder) -> Iterator[None]:
        recorder.on = True
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall += time.perf_counter() - wall
            self.cpu += time.process_time() - cpu
            recorder.on = False


# ---------------------------------------------------------------------------- the stack


def _honour_kms_digest() -> None:
    """moto 5.2 ignores ``MessageType=DIGEST``; sign the digest as AWS KMS does."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    from moto.kms.responses import KmsResponse

    if getattr(KmsResponse.sign, "honours_digest", False):
        return
    original = KmsResponse.sign

    def sign(self: Any) -> str:
        if self._get_param("MessageType") != "DIGEST":
            return original(self)
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
        private = getattr(key.private_key, "private_key", None)
        if not isinstance(private, ec.EllipticCurvePrivateKey):
            return original(self)
        message = self._get_param("Message")
        digest = message.encode("latin-1") if isinstance(message, str) else message
        signature = private.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return json.dumps({"KeyId": key.arn, "SigningAlgorithm": "ECDSA_SHA_256",
                           "Signature": base64.b64encode(signature).decode()})

    sign.honours_digest = True  # type: ignore[attr-defined]
    KmsResponse.sign = sign  # type: ignore[method-assign]


def deploy_stack(pki_dir: Path) -> dict[str, Any]:
    """Deploy the template into moto, publish the catalog, load the trust store and materials."""
    import boto3

    from chalicelib import runtime, storage, uploads, verification
    from chalicelib.catalog import load_services
    from chalicelib.names import Bucket
    from chalicelib.store import catalog
    from tools import deploy, moto_patches
    from tools.pki import build_pki

    moto_patches.apply()
    _honour_kms_digest()
    outputs = deploy.deploy(boto3.client("cloudformation", region_name=REGION), "local")
    runtime.reset()
    settings = runtime.ready()
    # A fresh deployment has a fresh signing key: forget the previous one's.
    from chalicelib import keys
    from chalicelib.api import authz

    keys.public_key_der.cache_clear()
    if hasattr(authz, "key_ring"):
        authz.key_ring.clear()
    catalog.publish([item.to_dict() for item in load_services()])
    pki = build_pki(pki_dir)
    for key, data in pki.trust_objects().items():
        storage.put(settings.bucket(Bucket.TRUST), key, data)
    verification.trust_cache.clear()
    item = next(i for i in load_services() if i.code == ITEM)
    materials = []
    for material in item.materials:
        if material.required:
            data = f"%PDF-1.4 {material.name}".encode()
            upload_id = secrets.token_urlsafe(12)
            storage.put(settings.bucket(Bucket.UPLOADS), uploads.object_key(upload_id), data)
            materials.append({"upload_id": upload_id, "name": material.code,
                              "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
    return {"settings": settings, "pki": pki, "materials": materials, "outputs": outputs}


def envelopes(pki: Any, materials: list[dict[str, Any]], n: int) -> list[bytes]:
    """The applicant's side: N signed applications (not measured)."""
    from tools.signing import sign_detached

    company = pki["company"]
    bodies = []
    for _ in range(n):
        doc = {"service_code": ITEM,
               "applicant": {"kind": "organization", "id": company.id_number,
                             "name": "肇庆市某某科技有限公司"},
               "form": {"project_name": "星湖花园二期", "location": "肇庆市端州区",
                        "description": "住宅楼三栋及地下车库"},
               "attachments": materials, "signed_at": datetime.now(UTC).isoformat(),
               "nonce": secrets.token_hex(12)}
        payload = json.dumps(doc, ensure_ascii=False).encode()
        signature = sign_detached(payload, company.cert_pem(), company.key_pem(),
                                  company.chain_pems())
        bodies.append(json.dumps({"payload": base64.b64encode(payload).decode(),
                                  "signature": base64.b64encode(signature).decode()}).encode())
    return bodies


def deliver(queue: str, handler: Callable[..., Any], recorder: Recorder, clock: Clock) -> int:
    """The event source mapping: batches of ten to the handler until the queue is empty."""
    from chalice.local import LambdaContext

    from chalicelib.clients import client
    from tools.lambda_shim import sqs_event

    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    delivered = 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return delivered
        with clock.measure(recorder):
            handler(sqs_event(messages, arn, REGION), LambdaContext(queue, 256))
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        delivered += len(messages)


def lifecycle(n: int, recorder: Recorder, clock: Clock, pki_dir: Path) -> dict[str, Any]:
    """Run N applications through their whole life on a fresh deployment; adds to ``clock``."""
    from chalice.test import Client

    from chalicelib import keys, names, tokens
    from chalicelib.names import Function, Queue
    from chalicelib.principal import Principal, Role
    from chalicelib.store import cases

    stack = deploy_stack(pki_dir)
    settings = stack["settings"]
    bodies = envelopes(stack["pki"], stack["materials"], n)
    from app import app

    def officer(department: str) -> dict[str, str]:
        principal = Principal(Role.OFFICER, f"cert-{department}", department, "科长")
        token = tokens.issue(principal, kid=settings.key_alias,
                             sign_der=lambda m: keys.sign(settings.key_alias, m),
                             now=datetime.now(UTC))
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    officers = {d: officer(d) for stage in STAGES for d in stage}
    handlers = {f: app.handler_map[f.value] for f in (Function.VERIFY, Function.ROUTE,
                                                      Function.NOTIFY)}
    queue = {q: names.queue_name("local", q) for q in Queue}
    accepted: list[dict[str, Any]] = []
    with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
        client.http.get("/health")  # warm imports outside the measurement
        for body in bodies:
            with clock.measure(recorder):
                answer = client.http.post("/applications", body=body,
                                          headers={"Content-Type": "application/json"})
            assert answer.status_code == 202, answer.body
            accepted.append(json.loads(answer.body))
        deliver(queue[Queue.VERIFY], handlers[Function.VERIFY], recorder, clock)
        deliver(queue[Queue.ROUTE], handlers[Function.ROUTE], recorder, clock)
        for stage, departments in enumerate(STAGES):
            for case in accepted:
                for department in departments:
                    path = f"/departments/{department}/tasks/{case['receipt']}/{stage}/approve"
                    with clock.measure(recorder):
                        answer = client.http.post(path, body=b"{}",
                                                  headers=officers[department])
                    assert answer.status_code == 200, answer.body
        deliver(queue[Queue.ROUTE], handlers[Function.ROUTE], recorder, clock)
        deliver(queue[Queue.NOTIFY], handlers[Function.NOTIFY], recorder, clock)
        for case in accepted:
            with clock.measure(recorder):
                answer = client.http.get(f"/licences/L{case['receipt']}"
                                         f"?code={case['tracking_code']}")
            assert answer.status_code == 200, answer.body
    statuses = Counter(cases.get(c["receipt"]).status for c in accepted)
    return {"statuses": statuses, "key_id": _key_id(settings.key_alias)}


def _key_id(alias: str) -> str:
    from chalicelib.clients import client

    return str(client("kms").describe_key(KeyId=alias)["KeyMetadata"]["KeyId"])


def floor(recorded: list[tuple[str, str, dict[str, Any]]], old_key: str,
          pki_dir: Path) -> tuple[float, int]:
    """The recorded calls back to back on a fresh stack; returns wall seconds and errors."""
    import boto3
    from botocore.exceptions import ClientError

    deploy_stack(pki_dir)
    from chalicelib import names

    new_key = _key_id(names.key_alias("local"))
    session = boto3.session.Session(region_name=REGION)
    bare = {service: session.client(service, region_name=REGION)
            for service in {s for s, _, _ in recorded}}
    calls = []
    for service, operation, params in recorded:
        # The fresh stack's signing key has another id; everything else is named the same.
        given = {**params, "KeyId": new_key} if params.get("KeyId") == old_key else params
        calls.append((bare[service], operation, given))
    errors = 0
    start = time.perf_counter()
    for client, operation, params in calls:
        try:
            client._make_api_call(operation, params)
        except ClientError:
            errors += 1  # a receipt handle or a claim of the first run: same cost, other answer
    return time.perf_counter() - start, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--applications", type=int, default=200)
    parser.add_argument("--wave", type=int, default=25,
                        help="applications per fresh deployment (default 25)")
    args = parser.parse_args(argv)
    n = args.applications
    _environment()
    import logging

    logging.disable(logging.WARNING)
    from moto import mock_aws

    recorder = Recorder()
    recorder.install()
    clock = Clock()
    statuses: Counter[str] = Counter()
    floor_wall, errors = 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        pki_dir = Path(tmp) / "pki"
        done = 0
        while done < n:
            size = min(args.wave, n - done)
            first = len(recorder.log)
            with mock_aws():
                summary = lifecycle(size, recorder, clock, pki_dir)
            statuses.update(summary["statuses"])
            with mock_aws():
                wall, failed = floor(recorder.log[first:], summary["key_id"], pki_dir)
            floor_wall += wall
            errors += failed
            done += size
            print(f"  {done}/{n} applications", file=sys.stderr, flush=True)

    total = sum(recorder.calls.values())
    print(f"{n} applications of {ITEM}, two stages (3 + 1 departments), on moto in-process")
    print(f"final statuses: {dict(statuses)}; waves of {args.wave} on fresh deployments")
    print()
    print("AWS calls per application, by service and operation:")
    for name, count in sorted(recorder.calls.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {name:<40} {count / n:8.2f}")
    print(f"  {'total':<40} {total / n:8.2f}")
    print()
    print(f"DynamoDB items read per application:     {recorder.items_read / n:8.2f}")
    print(f"DynamoDB items written per application:  {recorder.items_written / n:8.2f}")
    print(f"wall time per application (ours):        {clock.wall / n * 1000:8.2f} ms"
          f"   (of which inside the AWS calls: {recorder.in_calls / n * 1000:.2f} ms)")
    print(f"CPU time per application (ours):         {clock.cpu / n * 1000:8.2f} ms")
    print(f"floor: same calls back to back:          {floor_wall / n * 1000:8.2f} ms"
          f"   ({errors} of {total} answered an error on replay)")
    print(f"ratio ours / floor:                      {clock.wall / floor_wall:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
