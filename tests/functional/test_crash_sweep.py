"""A crash at every AWS call of a whole lifecycle, then the platform's own recovery only.

One lifecycle: an application with attachments submitted, verified, routed to a parallel stage
of two departments and a second stage, three approvals, the licence, the notifications and a
supervise pass. For every k, the k-th AWS call of that lifecycle (counted at
``BaseClient._make_api_call``, which boto3 and pynamodb share) raises a ``BaseException`` — so no
``except Exception`` can swallow it, as a killed process swallows nothing — and recovery runs as
production would: SQS redelivers an unacknowledged message after its visibility timeout, the
outbox sweeper runs every minute, a client or an officer retries once, supervision passes. No
manual ``settle``.

For every k the case must end APPROVED with its licence, every task must have reached its
department's queue, every audit record must exist once in a chain that verifies, every
notification must have been delivered and every statistic counted exactly once.

The default run samples crash points; ``ONESTOP_CRASH_SWEEP=all`` (set by ``.ci/run``) also
runs every one, and 40 pairs, in slices of their own processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import pytest

from chalicelib import (
    notifications,
    outbox,
    storage,
    supervision,
    uploads,
    verification,
    workflow,
)
from chalicelib.contract import Status
from chalicelib.errors import Conflict
from chalicelib.names import Bucket, Queue
from chalicelib.routing import Decision
from chalicelib.settings import Settings
from chalicelib.store import caselog, cases, stats, tasks
from chalicelib.store.cases import DuplicateNonce
from chalicelib.submission import submit
from tests.functional.applicants import draft, envelope, openssl_cms_sign, upload_materials
from tests.functional.conftest import REGION
from tests.functional.test_workflow import dept_queue, officer, publish, variant

STAGE0 = ("ghj", "hbj")
STAGE1 = ("jsj",)
EXPECTED_RECORDS = {"ACCEPTED": 1, "IN_REVIEW": 1, "CORRECTION_REQUIRED": 1, "SUPPLEMENTED": 1,
                    "DECISION": 3, "STAGE_OPENED": 1, "APPROVED": 1, "LICENCE_ISSUED": 1}
EXPECTED_EVENTS = ("received", "accepted", "in_review", "correction_required",
                   "supplement_received", "stage_opened", "approved", "licence_issued")


class Crash(BaseException):
    """The process dies here."""


@dataclass
class Injector:
    """Counts AWS calls; raises ``Crash`` at each call numbered in ``at``."""

    at: frozenset[int] = frozenset()
    calls: int = 0
    fired: bool = False
    harness: int = 0  # > 0 while the test harness itself (SQS as Lambda polls it) calls AWS

    def arm(self, *at: int) -> None:
        self.at, self.calls, self.fired = frozenset(at), 0, False


@contextmanager
def injected(injector: Injector) -> Iterator[None]:
    original = botocore.client.BaseClient._make_api_call

    def call(client: Any, operation: str, params: Any) -> Any:
        if _HARNESS[0]:
            return original(client, operation, params)
        injector.calls += 1
        if injector.calls in injector.at:
            injector.fired = True
            raise Crash(f"crash at AWS call {injector.calls}: {operation}")
        return original(client, operation, params)

    botocore.client.BaseClient._make_api_call = call  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


_HARNESS = [0]


@contextmanager
def harness() -> Iterator[None]:
    """AWS calls of the test's stand-in for Lambda's SQS poller: not crash points."""
    _HARNESS[0] += 1
    try:
        yield
    finally:
        _HARNESS[0] -= 1


@dataclass
class World:
    """What the departments' systems and the SMS gateway received, seen from outside."""

    tasks_seen: set[tuple[int, str]] = field(default_factory=set)
    kinds_seen: set[tuple[str, str]] = field(default_factory=set)


def _url(sqs: Any, name: str) -> str:
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def pump(settings: Settings, receipt: str, now: datetime, world: World, *,
         rounds: int = 12) -> None:
    """Run the workers until the queues are quiet: SQS semantics with an instant timeout.

    A handler that crashes leaves its message on the queue (it is received again, as SQS
    redelivers it once its visibility timeout passes); the sweeper runs every round.
    """
    sqs = boto3.client("sqs", region_name=REGION)
    handlers: dict[str, Callable[[dict[str, Any], int, str], None]] = {
        settings.queue(Queue.VERIFY): lambda body, n, mid: verification.handle(
            settings, body, now, n),
        settings.queue(Queue.ROUTE): lambda body, n, mid: workflow.handle(settings, body, now),
        settings.queue(Queue.NOTIFY): lambda body, n, mid: notifications.handle(
            settings, body, now, mid),
    }
    departments = {dept_queue(d) for d in STAGE0 + STAGE1}
    for _ in range(rounds):
        busy = False
        for name in [*handlers, *departments]:
            with harness():
                url = _url(sqs, name)
                received = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                    AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
            for message in received:
                body = json.loads(message["Body"])
                if body.get("receipt") != receipt:
                    with harness():
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    continue
                busy = True
                try:
                    if name in departments:
                        if body["kind"] == "task.opened":
                            world.tasks_seen.add((int(body["stage"]), body["department"]))
                        world.kinds_seen.add((body["kind"], body["department"]))
                    else:
                        handlers[name](body, int(message["Attributes"].get(
                            "ApproximateReceiveCount", 1)), message["MessageId"])
                except Crash:
                    continue  # not acknowledged: redelivered
                except Exception:
                    continue
                with harness():
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        try:
            busy = outbox.sweep(settings, now + timedelta(minutes=2)) > 0 or busy
        except Crash:
            busy = True
        if not busy:
            return
        now += timedelta(minutes=10)  # past every lease, visibility timeout and sweep grace


def once_more(action: Callable[[], Any]) -> Any:
    """Do ``action``; if the process died, the client (or officer) tries again.

    Once per injected crash: with a second crash the retry itself may die.
    """
    for _ in range(2):
        try:
            return action()
        except Crash:
            pass
    return action()


def lifecycle(settings: Settings, pki: Any, item: dict[str, Any], body: bytes,
              answer: Callable[[str, datetime], bytes],
              now: datetime) -> tuple[str | None, World]:
    """One whole case through the platform; returns its receipt (None: never accepted)."""
    world = World()
    try:
        receipt = once_more(lambda: submit(body, settings, now)).receipt
    except DuplicateNonce as exc:  # the first attempt stored it, then died: the original
        receipt = exc.details["receipt"]
    pump(settings, receipt, now, world)
    asked = now + timedelta(hours=1)

    def correction() -> None:
        task = workflow.find_task(receipt, 0, STAGE0[0])
        workflow.require_correction(settings, officer(STAGE0[0]), task,
                                    [{"name": "补充材料"}], "请补充", asked)
    with suppress(Conflict):
        once_more(correction)
    pump(settings, receipt, asked, world)
    answered = asked + timedelta(hours=1)
    with harness():  # the applicant's upload and signature: not the platform's calls
        supplement = answer(receipt, answered)
    with suppress(Conflict):  # the retry of a request that went through: 409
        once_more(lambda: workflow.supplement(settings, receipt, supplement, answered))
    pump(settings, receipt, answered, world)
    later = now + timedelta(hours=3)
    for stage, departments in ((0, STAGE0), (1, STAGE1)):
        for department in departments:
            def approve(department: str = department, stage: int = stage) -> None:
                task = workflow.find_task(receipt, stage, department)
                workflow.decide(settings, officer(department), task, Decision.APPROVE, {},
                                later)
            # A 409 on the retry: the first attempt's decision is in force, which is done.
            with suppress(Conflict):
                once_more(approve)
            pump(settings, receipt, later, world)
    once_more(lambda: supervision.run(settings, later + timedelta(hours=1)))
    pump(settings, receipt, later + timedelta(hours=1), world)
    return receipt, world


def inconsistencies(settings: Settings, receipt: str, world: World, item: dict[str, Any],
                    day_counters: Callable[[], Counter[str]]) -> list[str]:
    """What is wrong with the case after recovery (empty when nothing is)."""
    found = []
    application = cases.get(receipt, consistent=True)
    if application.status != Status.APPROVED.value or not application.licence_id:
        found.append(f"status {application.status}, licence {application.licence_id}")
    if application.pending:
        found.append(f"outbox still owes {len(application.pending)}")
    expected_tasks = {(0, d) for d in STAGE0} | {(1, d) for d in STAGE1}
    if world.tasks_seen != expected_tasks:
        found.append(f"tasks reached their queues: {sorted(world.tasks_seen)}")
    if ("task.resumed", STAGE0[0]) not in world.kinds_seen:
        found.append("the resumed task never reached its department")
    records = caselog.records(receipt)
    if caselog.first_broken_link(records) is not None:
        found.append("audit chain broken")
    kinds = Counter(r.kind for r in records)
    for kind, count in EXPECTED_RECORDS.items():
        if kinds[kind] != count:
            found.append(f"{kind} recorded {kinds[kind]} times")
    told = {(r.data or {}).get("event") for r in records if r.kind == "NOTIFIED"}
    for event in EXPECTED_EVENTS:
        if event not in told:
            found.append(f"notification {event} never delivered")
    counted = day_counters()
    for name in ("received", "accepted", "finished", "approved"):
        if counted[name] != 1:
            found.append(f"statistic {name} counted {counted[name]} times")
    if any(t.state != tasks.CLOSED for t in tasks.for_case(receipt)):
        found.append("a task is left open")
    return found


def sms_count(receipt: str) -> int:
    """SMS published for this case's events (the provider's side)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns import sns_backends

    backend = sns_backends[DEFAULT_ACCOUNT_ID][REGION]
    return sum(1 for _, text, *_ in backend.sms_messages.values() if receipt in str(text))


@pytest.fixture
def sweep_case(settings, trusted, tmp_path):
    """The item, the signed envelope factory and a fresh statistics scope per run."""
    identity = trusted["ec_citizen"]
    counter = iter(range(10_000))

    def make() -> tuple[dict[str, Any], bytes, Any, Callable[[], Counter[str]]]:
        base = draft("person", identity)
        code = f"{base.item.code}-x{next(counter)}{random.randrange(10**6)}"
        item = variant(code, {"model": "process", "stages": [
            {"departments": list(STAGE0), "working_days": 5},
            {"departments": list(STAGE1), "working_days": 3}],
            "decider": None, "decider_days": 0}, base=base.item.code)
        item["department"] = STAGE0[0]
        publish(item)
        base.doc["service_code"] = code
        upload_materials(settings, base)
        payload = base.payload()
        body = envelope(payload, openssl_cms_sign(identity, payload, tmp_path)).encode()

        def answer(receipt: str, at: datetime) -> bytes:
            data = f"%PDF-1.4 {secrets.token_hex(8)}".encode()
            upload_id = secrets.token_urlsafe(12)
            storage.put(settings.bucket(Bucket.UPLOADS), uploads.object_key(upload_id), data)
            doc = {**base.doc, "supplement_to": receipt, "signed_at": at.isoformat(),
                   "nonce": secrets.token_hex(10),
                   "attachments": [{"upload_id": upload_id, "name": "补充材料",
                                    "sha256": hashlib.sha256(data).hexdigest(),
                                    "size": len(data)}]}
            signed = json.dumps(doc, ensure_ascii=False).encode()
            return envelope(signed, openssl_cms_sign(identity, signed, tmp_path)).encode()

        def counters() -> Counter[str]:
            total: Counter[str] = Counter()
            for row in stats.raw(f"y{NOW.year}"):
                if str(row.get("scope", "")).endswith(f"#{code}"):
                    total.update({k: int(v) for k, v in row.items()
                                  if k not in ("bucket", "scope")})
            return total
        return item, body, answer, counters
    return make


NOW = datetime.now(UTC).replace(microsecond=0)


def _clean_run(settings: Settings, pki: Any, make: Any) -> tuple[int, int]:
    """AWS calls and SMS sent by a lifecycle without a crash (and it is consistent)."""
    item, body, answer, counters = make()
    injector = Injector()
    with injected(injector):
        receipt, world = lifecycle(settings, pki, item, body, answer, NOW)
    assert receipt is not None
    assert inconsistencies(settings, receipt, world, item, counters) == []
    return injector.calls, sms_count(receipt)


MODE = os.environ.get("ONESTOP_CRASH_SWEEP", "")
# One process of the whole sweep: the i-th of n slices of every crash point and pair.
CHUNK = re.fullmatch(r"chunk:(\d+)/(\d+)", MODE)
CHUNKS = 8
PAIRS = 40


def _points(total: int, pairs: bool) -> list[tuple[int, ...]]:
    """A sample of crash points, or one slice of all of them; for pairs, a second crash later
    on, during recovery."""
    rng = random.Random(9)
    if pairs:
        chosen = []
        for _ in range(PAIRS if CHUNK else 4):
            first = rng.randrange(1, total)
            chosen.append((first, rng.randrange(first + 1, total + 40)))
    else:
        everyone = list(range(1, total + 1))
        chosen = [(k,) for k in (everyone if CHUNK else
                                 sorted(rng.sample(everyone, min(12, total))))]
    if CHUNK:
        index, count = int(CHUNK[1]), int(CHUNK[2])
        return chosen[index::count]
    return chosen


@pytest.mark.parametrize("pairs", [False, True], ids=["one crash", "a crash in recovery"])
def test_a_crash_at_any_aws_call_loses_or_sticks_nothing(settings, trusted, sweep_case,
                                                         monkeypatch, pairs) -> None:
    monkeypatch.setattr(notifications, "RETRY_DELAYS", (0, 0, 0, 0))
    total, sms = _clean_run(settings, trusted, sweep_case)
    points = _points(total, pairs)
    failures: dict[tuple[int, ...], list[str]] = {}
    duplicates = fired = 0
    injector = Injector()
    for k in points:
        item, body, answer, counters = sweep_case()
        injector.arm(*k)
        with injected(injector):
            receipt, world = lifecycle(settings, trusted, item, body, answer, NOW)
        assert receipt is not None
        wrong = inconsistencies(settings, receipt, world, item, counters)
        fired += injector.fired  # a warm run makes a few calls fewer than the first
        if wrong:
            failures[k] = wrong
        duplicates += max(0, sms_count(receipt) - sms)
    print(f"\n{'crash pairs' if pairs else 'crash points'}: {len(points)} over {total} AWS "
          f"calls ({fired} fired); inconsistencies: {len(failures)}; duplicate sends: "
          f"{duplicates}")
    assert failures == {}


@pytest.mark.skipif(MODE != "all", reason="the whole sweep runs with ONESTOP_CRASH_SWEEP=all")
def test_every_crash_point_in_slices() -> None:
    """Every crash point and 40 pairs, in processes of their own, two at a time.

    One process per slice: each transaction makes the embedded DynamoDB copy every table it
    touches, so a single process running every lifecycle would grow past the machine's memory.
    """
    root = Path(__file__).resolve().parents[2]
    target = f"{Path(__file__).relative_to(root)}::" \
             "test_a_crash_at_any_aws_call_loses_or_sticks_nothing"
    pending = list(range(CHUNKS))
    running: list[tuple[int, subprocess.Popen[str]]] = []
    outcomes: dict[int, tuple[int, str]] = {}
    while pending or running:
        while pending and len(running) < 2:
            index = pending.pop(0)
            env = {**os.environ, "ONESTOP_CRASH_SWEEP": f"chunk:{index}/{CHUNKS}"}
            running.append((index, subprocess.Popen(
                [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", target],
                cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True)))
        index, process = running.pop(0)
        output, _ = process.communicate(timeout=3600)
        outcomes[index] = (process.returncode, output)
    for index, (_code, output) in sorted(outcomes.items()):
        figures = [line.strip(".") for line in output.splitlines()
                   if "crash points" in line or "crash pairs" in line]
        print(f"slice {index + 1}/{CHUNKS}: " + "; ".join(figures))
    failed = {i: out[-3000:] for i, (code, out) in outcomes.items() if code != 0}
    assert failed == {}
