"""``make simulate``: a pilot-sized year of the supervised platform, replayed on moto.

The pilot (Zhaoqing, ``../shared/seeds/003_*.txt``): 48 departments and 494 published items,
282 items of 29 departments fully online, 16,800 online cases from July 2004 to mid-2008 (about
4,200 a year), every case finished on time and 64% early, an electronic supervision system
watching all of them. This replays one calendar year of that on the embedded AWS, through the
real handlers, with a simulated clock:

* applicants (the demo PKI's citizen and company certificates) sign applications for the online
  items and submit them over the API (``POST /applications``); the verify and route handlers
  receive their queues' messages in Lambda's event shape, as the event source mapping delivers
  them;
* each department system reads its task queue and its officers decide over the API at a time
  drawn from how officers behave: mostly early, often on the due day, sometimes late; a few ask
  for a correction (the applicant answers with a signed supplement a few days later) or deny;
* the supervise handler fires as EventBridge would, once a day just after midnight China time
  (warning levels change only when the China date does; the schedule's other firings find
  nothing new, as ``tests/functional/test_supervision.py`` shows);
* finished cases are counted and reviewed by ``supervision.on_case_finished``.

It then prints, per department, the on-time and early rates and the warnings raised, read from
``GET /supervision/stats`` (the incrementally kept counters) next to the same figures recomputed
from a scan of the raw cases, and plots them (PNG). The default replays a tenth of the pilot's
volume, so that it runs in about three minutes (``--scale 1`` replays all of it, ~4,200 cases:
expect most of an hour, as the embedded AWS slows down with what it holds).
Notifications are queued and counted, not delivered (the notify step is not what this measures).

Usage: ``python -m tools.simulate [--year 2026] [--scale 0.1] [--seed 2008] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import heapq
import itertools
import json
import logging
import math
import os
import random
import secrets
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "cn-north-1"
PILOT_CASES_PER_YEAR = 4_200  # 16,800 online cases, July 2004 to mid-2008
# How officers behave (per task): late sometimes, on the due day often, early mostly.
LATE, ON_DUE_DAY = 0.01, 0.35
CORRECTION, DENIAL, DENIAL_WITHOUT_REASON = 0.04, 0.03, 0.15
WEEKEND_SHARE = 0.15  # online submissions come in at weekends too, fewer
# Officer tokens live 30 real minutes; renew them well before (monotonic seconds).
TOKEN_RENEWAL = 20 * 60
UNSET = datetime(1970, 1, 1, tzinfo=UTC)

log = logging.getLogger("onestop.simulate")


# ---------------------------------------------------------------------------- the clock


@contextmanager
def swapped(*changes: tuple[Any, str, Any]) -> Iterator[None]:
    """Set ``(object, attribute, value)`` for the block, then put the old values back."""
    saved = [(target, name, getattr(target, name)) for target, name, _ in changes]
    for target, name, value in changes:
        setattr(target, name, value)
    try:
        yield
    finally:
        for target, name, value in reversed(saved):
            setattr(target, name, value)


@dataclass
class Clock:
    """The simulated time every handler sees."""

    now: datetime = UNSET


def _china(day: date, hour: int, minute: int = 0) -> datetime:
    from chalicelib.workcalendar import CHINA

    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA).astimezone(UTC)


@contextmanager
def simulated_time(clock: Clock) -> Iterator[None]:
    """Point the handlers' clocks at ``clock`` (intake and the queue/schedule entry points; the
    department routes take the local stack's ``X-Onestop-Test-Now`` header)."""
    from chalicelib import consumers
    from chalicelib.api import submissions

    with swapped((consumers, "_now", lambda: clock.now),
                 (submissions, "datetime", fixed_datetime(lambda: clock.now))):
        yield


def fixed_datetime(now: Callable[[], datetime]) -> type[datetime]:
    """A ``datetime`` class whose ``now()`` is ``now()`` (for modules that call it)."""

    class Fixed(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            moment = now()
            return moment if tz else moment.replace(tzinfo=None)

    return Fixed


@contextmanager
def finish_hook() -> Iterator[bool]:
    """Count and review finished cases: ``supervision.on_case_finished`` after the workflow's
    approve and deny steps, unless the workflow calls it itself. Yields whether it wired it."""
    import inspect

    from chalicelib import supervision, workflow

    if "on_case_finished" in inspect.getsource(workflow):
        yield False
        return
    approve, deny = workflow._approve, workflow._deny

    def _approve(settings: Any, application: Any, now: datetime, actor: str) -> bool:
        moved = approve(settings, application, now, actor)
        if moved:
            supervision.on_case_finished(settings, application,
                                         workflow.bound_item(application), now)
        return moved

    def _deny(settings: Any, application: Any, item: Any, all_tasks: Any, outcome: Any,
              now: datetime, actor: str) -> bool:
        moved = deny(settings, application, item, all_tasks, outcome, now, actor)
        if moved:
            supervision.on_case_finished(settings, application, item, now)
        return moved

    with swapped((workflow, "_approve", _approve), (workflow, "_deny", _deny)):
        yield True


@contextmanager
def faster_moto() -> Iterator[None]:
    """Shortcuts in the embedded AWS, without changing what it answers.

    moto 5.2 answers a Query on a table's key by sorting every item of the table, and backs up
    each table a transaction touches by deep-copying it once per item of the transaction; over a
    simulated year both grow with everything stored so far. Here a key Query looks only at its
    partition, and a transaction checks all its conditions first and then applies its writes
    (what DynamoDB guarantees: the items are distinct, the conditions see the state before), so
    no backup is needed. And every pynamodb connection (the code makes one per transaction)
    shares one botocore session, so that the DynamoDB model is loaded once. The answers are the
    same; only the emulator's cost changes.
    """
    import botocore.session
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from pynamodb.connection import base as pynamodb_base

    original_query = Table.query
    shared = botocore.session.get_session()

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is not None or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        found = self.items.get(hash_key)
        partition = [] if found is None else (
            list(found.values()) if self.range_key_attr else [found])
        self.all_items = lambda: partition
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        seen: set[tuple[str, str]] = set()
        errors: list[tuple[str | None, str | None, Any]] = []
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            unique = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if unique in seen:
                raise MultipleTransactionsException()
            seen.add(unique)
            condition = op.get("ConditionExpression")
            if condition is not None and not get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"),
                    op.get("ExpressionAttributeValues")).expr(
                    self.get_item(op["TableName"], key)):
                errors.append(("ConditionalCheckFailed", "The conditional request failed",
                               None))
            else:
                errors.append((None, None, None))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            names, values = op.get("ExpressionAttributeNames"), op.get(
                "ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"], expression_attribute_names=names,
                              expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(op["TableName"], op["Key"], expression_attribute_names=names,
                                 expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(op["TableName"], op["Key"],
                                 update_expression=op["UpdateExpression"],
                                 expression_attribute_names=names,
                                 expression_attribute_values=values)

    with swapped((Table, "query", query),
                 (DynamoDBBackend, "transact_write_items", transact_write_items),
                 (pynamodb_base, "get_session", lambda: shared)):
        yield


# ---------------------------------------------------------------------------- the simulation


@dataclass
class Config:
    """What to replay."""

    year: int = 2026
    months: int = 12  # from January; fewer for a quick run (the tests)
    scale: float = 0.1
    seed: int = 2008
    out: Path = ROOT / ".local" / "simulate"
    plot: bool = True
    quiet: bool = False


@dataclass
class Case:
    """What the simulation remembers of a submitted case (the platform keeps the rest)."""

    receipt: str
    item: dict[str, Any]
    applicant: Any
    kind: str
    corrected: bool = False


@dataclass
class Tally:
    """What happened, counted by the simulation itself (cross-checks, not the figures)."""

    submitted: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    conflicts: int = 0
    notify_events: Counter[str] = field(default_factory=Counter)
    passes: int = 0
    heads_signed: int = 0


class Simulation:
    """The embedded AWS, the app, the applicants and officers, and the event loop."""

    def __init__(self, config: Config) -> None:
        self.config = config
        # A seeded, reproducible replay: nothing here is a secret.
        self.random = random.Random(config.seed)  # noqa: S311
        self.clock = Clock()
        self.tally = Tally()
        self.cases: dict[str, Case] = {}
        self.events: list[tuple[datetime, int, str, dict[str, Any]]] = []
        self._order = itertools.count()
        # Officer tokens by department, with the monotonic time they were minted.
        self._tokens: dict[str, tuple[float, dict[str, str]]] = {}

    # ------------------------------------------------------------------ set-up

    def setup(self, pki_dir: Path) -> None:
        """Deploy the stack into moto, publish the pilot catalog, trust a PKI of that year."""
        import boto3

        from chalicelib import runtime, storage, uploads, verification
        from chalicelib.catalog import load_departments, load_services
        from chalicelib.names import Bucket
        from chalicelib.store import catalog
        from tools import deploy, moto_patches

        moto_patches.apply()
        deploy.deploy(boto3.client("cloudformation", region_name=REGION), "local")
        runtime.reset()
        self.settings = runtime.ready()
        items = [i.to_dict() for i in load_services()]
        catalog.publish(items)
        self.departments = {d.code: d for d in load_departments()}
        self.online = [i for i in items if i["online"]]
        self.pki = self._pki(pki_dir)
        for key, data in self.pki.trust_objects().items():
            storage.put(self.settings.bucket(Bucket.TRUST), key, data)
        verification.trust_cache.clear()
        # One stored file per material: every application may attach the same upload.
        self.materials: dict[str, dict[str, Any]] = {}
        bucket = self.settings.bucket(Bucket.UPLOADS)
        for item in self.online:
            for material in item["materials"]:
                if material["required"] and material["code"] not in self.materials:
                    data = f"%PDF-1.4 {material['code']}".encode()
                    upload_id = secrets.token_urlsafe(12)
                    storage.put(bucket, uploads.object_key(upload_id), data)
                    self.materials[material["code"]] = {
                        "upload_id": upload_id, "name": material["code"],
                        "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        from app import app

        self.app = app
        from chalice.test import Client

        self.client = Client(app, stage_name="local", project_dir=str(ROOT))
        self.http = self.client.__enter__().http
        self.sqs = boto3.client("sqs", region_name=REGION)

    def _pki(self, directory: Path) -> Any:
        """The demo PKI as if built the day before the year starts (its certificates and CRLs
        are then valid at every simulated moment)."""
        from tools import pki as pki_module

        built_at = datetime(self.config.year - 1, 12, 31, tzinfo=UTC)

        # CRLs current for the whole year and the weeks after it (supplements are verified too).
        with swapped((pki_module, "datetime", fixed_datetime(lambda: built_at)),
                     (pki_module, "_CRL_LIFETIME", timedelta(days=2 * 365))):
            return pki_module.build_pki(directory)

    # ------------------------------------------------------------------ the calendar of events

    def schedule(self, at: datetime, kind: str, **data: Any) -> None:
        """Add an event at ``at``."""
        heapq.heappush(self.events, (at, next(self._order), kind, data))

    def plan_year(self) -> None:
        """Arrivals over the year (Poisson per day, weighted items) and the daily passes."""
        from chalicelib.workcalendar import WorkCalendar

        cal = WorkCalendar.default()
        per_year = PILOT_CASES_PER_YEAR * self.config.scale
        first = date(self.config.year, 1, 1)
        months = self.config.months
        last = (date(self.config.year + months // 12, months % 12 + 1, 1) - timedelta(days=1)
                if months < 12 else date(self.config.year, 12, 31))
        self.end = _china(last + timedelta(days=1), 0)
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        weights = [1.0 if cal.is_working_day(d) else WEEKEND_SHARE for d in days]
        year_weight = sum(1.0 if cal.is_working_day(first + timedelta(days=n)) else
                          WEEKEND_SHARE for n in range(365))
        per_weight = per_year / year_weight
        # Popular items draw most applications (a few licences, many rare permits).
        ranked = self.online[:]
        self.random.shuffle(ranked)
        item_weights = [1 / (rank + 1) ** 0.7 for rank in range(len(ranked))]
        for day, weight in zip(days, weights, strict=True):
            for _ in range(_poisson(self.random, per_weight * weight)):
                at = _china(day, 8) + timedelta(seconds=self.random.randrange(14 * 3600))
                item = self.random.choices(ranked, item_weights)[0]
                self.schedule(at, "arrive", item=item)
        # One pass a day, 00:05 China time, until the last case of the period is decided.
        for n in range((last - first).days + 75):
            self.schedule(_china(first + timedelta(days=n), 0, 5), "supervise")

    # ------------------------------------------------------------------ the loop

    def run(self) -> None:
        """Process every event in time order."""
        started = time.monotonic()
        while self.events:
            at, _, kind, data = heapq.heappop(self.events)
            if kind == "supervise" and at > self.end and not self._pending_work():
                continue
            self.clock.now = at
            getattr(self, f"_on_{kind}")(**data)
            if not self.config.quiet and kind == "supervise" and at.day == 1 and \
                    at.astimezone(UTC).hour == 16:
                print(f"  {at.date().isoformat()[:7]}  cases {self.tally.submitted:5d}  "
                      f"{time.monotonic() - started:6.0f} s", flush=True)

    def _pending_work(self) -> bool:
        return any(kind != "supervise" for _, _, kind, _ in self.events)

    def _on_arrive(self, item: dict[str, Any]) -> None:
        kinds = item["applicant_kinds"]
        kind = "organization" if "organization" in kinds and (
            "person" not in kinds or self.random.random() < 0.6) else "person"
        applicant = self.pki["company"] if kind == "organization" else self.pki["ec_citizen"]
        doc = self._application(item, applicant, kind)
        answer = self.http.post("/applications", body=self._envelope(doc, applicant),
                                headers={"Content-Type": "application/json"})
        if answer.status_code != 202:
            raise RuntimeError(f"submission refused: {answer.status_code} {answer.body[:300]!r}")
        receipt = json.loads(answer.body)["receipt"]
        self.cases[receipt] = Case(receipt, item, applicant, kind)
        self.tally.submitted += 1
        self._pump(self._departments_of(item))

    def _application(self, item: dict[str, Any], applicant: Any, kind: str,
                     **extra: Any) -> dict[str, Any]:
        from tools.demo import sample_form

        return {"service_code": item["code"],
                "applicant": {"kind": kind, "id": applicant.id_number,
                              "name": "肇庆市某某科技有限公司" if kind == "organization"
                              else "李四",
                              "phone": "13800138000"},
                "form": sample_form(item["form_schema"]),
                "attachments": [self.materials[m["code"]] for m in item["materials"]
                                if m["required"]],
                "signed_at": self.clock.now.isoformat(), "nonce": secrets.token_hex(12),
                **extra}

    def _envelope(self, doc: dict[str, Any], applicant: Any) -> bytes:
        from tools.signing import sign_detached

        payload = json.dumps(doc, ensure_ascii=False).encode()
        signature = sign_detached(payload, applicant.cert_pem(), applicant.key_pem(),
                                  applicant.chain_pems(), signing_time=self.clock.now)
        return json.dumps({"payload": base64.b64encode(payload).decode(),
                           "signature": base64.b64encode(signature).decode()}).encode()

    def _on_decide(self, receipt: str, stage: int, department: str, decision: str) -> None:
        case = self.cases[receipt]
        path = f"/departments/{department}/tasks/{receipt}/{stage}"
        if decision == "correction":
            body: dict[str, Any] = {"missing": [{"name": "补充说明材料"}],
                                    "note": "请一次性补齐以下材料"}
            path += "/corrections"
        elif decision == "deny":
            without = self.random.random() < DENIAL_WITHOUT_REASON
            body = {"reason": "无" if without else "申请材料与现场核查情况不符，不予许可"}
            path += "/deny"
        elif decision == "opinion":
            body = {"opinion": "同意，请牵头部门决定"}
            path += "/opinion"
        else:
            body = {"comment": "材料齐全，符合法定条件，准予许可"}
            path += "/approve"
        answer = self.http.post(path, body=json.dumps(body, ensure_ascii=False).encode(),
                                headers=self._officer(department))
        if answer.status_code == 409:  # cancelled by another department's denial
            self.tally.conflicts += 1
            return
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"{path}: {answer.status_code} {answer.body[:300]!r}")
        self.tally.decisions[decision] += 1
        if decision == "correction":
            case.corrected = True
            days = self.random.randint(1, 4)
            self.schedule(self.clock.now + timedelta(days=days, hours=self.random.randint(0, 6)),
                          "supplement", receipt=receipt)
        self._pump(self._departments_of(case.item))

    def _on_supplement(self, receipt: str) -> None:
        case = self.cases[receipt]
        doc = self._application(case.item, case.applicant, case.kind, supplement_to=receipt)
        answer = self.http.post(f"/applications/{receipt}/supplements",
                                body=self._envelope(doc, case.applicant),
                                headers={"Content-Type": "application/json",
                                         "X-Onestop-Test-Now": self.clock.now.isoformat()})
        if answer.status_code == 409:  # denied meanwhile by another department
            return
        if answer.status_code != 202:
            raise RuntimeError(f"supplement refused: {answer.status_code} {answer.body[:300]!r}")
        self._pump(self._departments_of(case.item))

    def _on_supervise(self) -> None:
        from chalicelib.names import Function
        from tools.lambda_shim import scheduled_event

        handler = self.app.handler_map[Function.SUPERVISE.value]
        summary = handler(scheduled_event("supervise", REGION, self.clock.now), None)
        self.tally.passes += 1
        self.tally.heads_signed += int(summary["heads_signed"])
        self._drain_notify()

    # ------------------------------------------------------------------ the departments

    def _departments_of(self, item: dict[str, Any]) -> list[str]:
        routing = item["routing"]
        found = [d for s in routing["stages"] for d in s["departments"]]
        if routing.get("decider"):
            found.append(routing["decider"])
        return list(dict.fromkeys(found))

    def _officer(self, department: str) -> dict[str, str]:
        """A department officer's headers (a token minted by the stage's key, renewed before
        it expires in real time) and the simulated time of the request."""
        from chalicelib.principal import Principal, Role

        # No token yet means "mint one now": ``time.monotonic()`` counts from an arbitrary
        # origin (boot, on Linux), so a start of 0.0 would mint nothing for the first
        # twenty minutes of a machine's life.
        cached = self._tokens.get(department)
        if cached is None or time.monotonic() - cached[0] > TOKEN_RENEWAL:
            headers = {**self._token(Principal(Role.OFFICER, f"fp:sim-officer-{department}",
                                               department, "科员")),
                       "Content-Type": "application/json"}
            self._tokens[department] = (time.monotonic(), headers)
        else:
            headers = cached[1]
        return {**headers, "X-Onestop-Test-Now": self.clock.now.isoformat()}

    def _token(self, principal: Any) -> dict[str, str]:
        """A bearer token for ``principal``, signed by the stage's key (valid 30 real minutes:
        tokens are checked against the real clock)."""
        from chalicelib import keys, tokens

        token = tokens.issue(principal, kid=self.settings.key_alias,
                             sign_der=lambda m: keys.sign(self.settings.key_alias, m),
                             now=datetime.now(UTC))
        return {"Authorization": f"Bearer {token}"}

    def _pump(self, departments: list[str]) -> None:
        """Deliver the verify and route queues to their handlers until both are empty, then
        let the department systems read their queues."""
        from chalicelib import names
        from chalicelib.names import Function, Queue

        while True:
            moved = self._deliver(names.queue_name("local", Queue.VERIFY), Function.VERIFY)
            moved += self._deliver(names.queue_name("local", Queue.ROUTE), Function.ROUTE)
            if not moved:
                break
        for department in departments:
            for message in self._receive(names.department_queue_name("local", department)):
                self._department_message(message)

    def _deliver(self, queue: str, function: Any) -> int:
        from tools.lambda_shim import sqs_event

        url = self.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:123456789012:{queue}"
        delivered = 0
        while True:
            batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                             AttributeNames=["All"]).get("Messages", [])
            if not batch:
                return delivered
            self.app.handler_map[function.value](sqs_event(batch, arn, REGION), None)
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
            delivered += len(batch)

    def _receive(self, queue: str) -> list[dict[str, Any]]:
        url = self.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        found: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                "Messages", [])
            if not batch:
                return found
            found += [json.loads(m["Body"]) for m in batch]
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])

    def _department_message(self, message: dict[str, Any]) -> None:
        """What a department system does with a task message: plan the officer's decision."""
        if message["kind"] not in ("task.opened", "task.resumed"):
            return
        case = self.cases.get(message["receipt"])
        if case is None:
            return
        decisions = message["decisions"]
        default = "approve" if "approve" in decisions else "opinion"
        roll = self.random.random()
        if message["kind"] == "task.opened" and "correction" in decisions and roll < CORRECTION:
            decision = "correction"
        elif "deny" in decisions and roll > 1 - DENIAL:
            decision = "deny"
        else:
            decision = default
        at = self._decision_time(message, decision)
        self.schedule(at, "decide", receipt=message["receipt"], stage=int(message["stage"]),
                      department=message["department"], decision=decision)

    def _decision_time(self, message: dict[str, Any], decision: str) -> datetime:
        """When the officer acts: late sometimes, on the due day often, early mostly."""
        from chalicelib.workcalendar import WorkCalendar, china_date

        cal = WorkCalendar.default()
        today = china_date(self.clock.now)
        due = date.fromisoformat(message["due_date"])
        left = max(cal.working_days_between(today, due), 0)
        roll = self.random.random()
        if decision == "correction":
            step = self.random.randint(0, min(1, left))
        elif roll < LATE:
            step = left + self.random.randint(1, 3)
        elif roll < LATE + ON_DUE_DAY or left == 0:
            step = left
        else:
            step = self.random.randint(0, left - 1)
        day = cal.add_working_days(today, step) if step else today
        earliest = self.clock.now + timedelta(minutes=30)
        at = _china(day, 9) + timedelta(seconds=self.random.randrange(8 * 3600))
        return max(at, earliest)

    def _drain_notify(self) -> None:
        from chalicelib import names
        from chalicelib.names import Queue

        for message in self._receive(names.queue_name("local", Queue.NOTIFY)):
            name = str(message.get("event", message.get("kind", "?")))
            if name.startswith("warning_"):
                level = (message.get("detail") or {}).get("level", name)
                name = f"{name}:{level}"
            self.tally.notify_events[name] += 1

    # ------------------------------------------------------------------ the report

    def report(self) -> dict[str, Any]:
        """Figures kept by the platform, next to the same recomputed from the raw cases."""
        from chalicelib import stats
        from chalicelib.principal import Principal, Role
        from chalicelib.store.models import ApplicationModel, SupervisionModel
        from chalicelib.workcalendar import WorkCalendar, china_date

        year = self.config.year
        boss = self._token(Principal(Role.SUPERVISOR, "fp:sim-supervisor"))
        answer = self.http.get(f"/supervision/stats?period={year}", headers=boss)
        if answer.status_code != 200:
            raise RuntimeError(f"/supervision/stats: {answer.status_code} {answer.body!r}")
        kept = json.loads(answer.body)
        public = json.loads(self.http.get(f"/stats?period={year}").body)
        # The raw cases (a tool may scan; the platform never does).
        cal = WorkCalendar.default()
        finished: dict[str, list[stats.FinishedCase]] = defaultdict(list)
        statuses: Counter[str] = Counter()
        for application in ApplicationModel.scan():
            statuses[application.status] += 1
            if application.decided_at is None or china_date(application.decided_at).year != year:
                continue
            if application.status not in stats.FINISHED_STATUSES:
                continue
            case = self.cases[application.receipt]
            facts = stats.facts_of(application, cal, application.decided_at)
            finished[case.item["department"]].append(facts)
            finished["all"].append(facts)
        raw = {scope: stats.figures(stats.recompute(c)) for scope, c in finished.items()}
        warnings: dict[str, Counter[str]] = defaultdict(Counter)
        for record in SupervisionModel.scan():
            if record.kind == "warning" and str(record.data.get("raised_at", ""))[:4] == \
                    str(year):
                warnings[str(record.data["department"])][str(record.data["level"])] += 1
                warnings["all"][str(record.data["level"])] += 1
        return {"kept": kept, "public": public, "raw": raw, "warnings": warnings,
                "statuses": statuses}

    def print_report(self, report: dict[str, Any], elapsed: float) -> bool:
        """The table; returns whether every kept figure equals the recomputed one."""
        kept = {d["department"]: d for d in report["kept"]["departments"]}
        kept["all"] = report["kept"]["total"]
        raw, warnings = report["raw"], report["warnings"]
        fields = ("finished", "on_time", "early", "on_time_rate", "early_rate")
        print()
        span = f"{self.config.year}" if self.config.months == 12 else \
            f"{self.config.year}, January to month {self.config.months}"
        print(f"{span}: {self.tally.submitted} applications submitted "
              f"({self.config.scale:g} of the pilot's ~{PILOT_CASES_PER_YEAR:,} a year) to "
              f"{len({c.item['code'] for c in self.cases.values()})} of "
              f"{len(self.online)} online items; statuses now: {dict(report['statuses'])}")
        print(f"decisions over the API: {dict(self.tally.decisions)}; "
              f"{self.tally.passes} supervise passes signed {self.tally.heads_signed} audit "
              f"heads; notify events queued: {sum(self.tally.notify_events.values())}")
        print()
        header = (f"{'department':<38} {'finished':>8} {'on time':>8} {'early':>7} "
                  f"{'yellow':>6} {'red':>5} {'esc.':>5}   recomputed from raw cases")
        print(header)
        print("-" * len(header))
        all_match = True
        codes = sorted(set(raw) | {c for c in kept if c != "all"}, key=lambda c: (c == "all", c))
        for code in codes:
            mine = kept.get(code, {})
            again = raw.get(code, {})
            match = all(mine.get(f, 0) == again.get(f, 0) or (
                mine.get(f) is None and again.get(f) is None) for f in fields)
            counted = warnings.get(code, Counter())
            match = match and all(int(mine.get(level, 0)) == counted[level]
                                  for level in ("yellow", "red", "escalated"))
            all_match = all_match and match
            name = "all departments" if code == "all" else \
                f"{code} {self.departments[code].name_en}" if code in self.departments else code
            print(f"{name[:38]:<38} {mine.get('finished', 0):>8} {_pct(mine.get('on_time_rate'))}"
                  f" {_pct(mine.get('early_rate'), 7)} {mine.get('yellow', 0):>6} "
                  f"{mine.get('red', 0):>5} {mine.get('escalated', 0):>5}   "
                  f"{_pct(again.get('on_time_rate'))} {_pct(again.get('early_rate'), 7)}  "
                  f"{'= match' if match else '≠ MISMATCH'}")
        total = kept["all"]
        print()
        agrees = report["public"]["total"]["on_time_rate"] == total.get("on_time_rate")
        print(f"on time {_pct(total.get('on_time_rate')).strip()}, early "
              f"{_pct(total.get('early_rate')).strip()} (the pilot: 100% and 64%); public "
              f"GET /stats agrees: {agrees}")
        events = self.tally.notify_events
        print(f"warning events queued for officers and supervisors: yellow "
              f"{events['warning_yellow:yellow']}, red {events['warning_red:red']}, "
              f"escalated {events['warning_red:escalated']}")
        print(f"kept figures equal the recomputation: {'yes' if all_match else 'NO'}; "
              f"{elapsed:.0f} s")
        return all_match

    def plot(self, report: dict[str, Any]) -> Path:
        """Bars per department: on-time and early rates; warnings raised."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = sorted(report["kept"]["departments"], key=lambda d: -(d.get("finished") or 0))
        rows = [r for r in rows if r.get("finished") or r.get("yellow") or r.get("red")]
        codes = [r["department"] for r in rows]
        x = range(len(codes))
        figure, (rates, alerts) = plt.subplots(2, 1, figsize=(14, 8), sharex=True)
        width = 0.4
        rates.bar([i - width / 2 for i in x], [100 * (r["on_time_rate"] or 0) for r in rows],
                  width, label="on time", color="#2e7d32")
        rates.bar([i + width / 2 for i in x], [100 * (r["early_rate"] or 0) for r in rows],
                  width, label="early (>= 1 working day to spare)", color="#81c784")
        rates.axhline(64, color="grey", linestyle="--", linewidth=1)
        rates.text(-0.5, 65.5, "the pilot: 64% early", ha="left", fontsize=8, color="grey")
        rates.set_ylabel("% of the cases it answers for")
        rates.set_ylim(0, 105)
        total = report["kept"]["total"]
        rates.set_title(f"Simulated {self.config.year}: {total['finished']} cases finished, "
                        f"{_pct(total['on_time_rate']).strip()} on time, "
                        f"{_pct(total['early_rate']).strip()} early")
        rates.legend(loc="lower right", fontsize=8)
        bottom = [0] * len(rows)
        for level, color in (("yellow", "#fbc02d"), ("red", "#d32f2f"),
                             ("escalated", "#6a1b9a")):
            values = [int(r.get(level) or 0) for r in rows]
            alerts.bar(list(x), values, 0.6, bottom=bottom, label=level, color=color)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        alerts.set_ylabel("warnings on its tasks")
        alerts.legend(loc="upper right", fontsize=8)
        alerts.set_xticks(list(x))
        alerts.set_xticklabels(codes, rotation=90, fontsize=8)
        alerts.set_xlabel("department (code)")
        figure.tight_layout()
        self.config.out.mkdir(parents=True, exist_ok=True)
        path = self.config.out / f"supervision-{self.config.year}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        return path


def _pct(value: float | None, width: int = 8) -> str:
    return f"{'-' if value is None else f'{100 * value:.1f}%':>{width}}"


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth; the means here are small)."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _environment() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(config["stages"]["local"]["environment_variables"])
    os.environ.update({"AWS_ACCESS_KEY_ID": "simulate", "AWS_SECRET_ACCESS_KEY": "simulate",
                       "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                       "ONESTOP_PEPPER": "simulate-pepper"})


def simulate(config: Config, after: Callable[[Simulation, dict[str, Any]], None] | None = None
             ) -> bool:
    """Run one simulation in a fresh embedded AWS; True when the figures match."""
    from moto import mock_aws

    started = time.monotonic()
    simulation = Simulation(config)
    with mock_aws(), faster_moto(), tempfile.TemporaryDirectory() as tmp, \
            finish_hook() as wired:
        simulation.setup(Path(tmp) / "pki")
        if wired and not config.quiet:
            print("(the workflow does not call supervision.on_case_finished yet: wired here)")
        simulation.plan_year()
        with simulated_time(simulation.clock):
            simulation.run()
        report = simulation.report()
        ok = simulation.print_report(report, time.monotonic() - started)
        if config.plot:
            print(f"plot: {simulation.plot(report)}")
        if after is not None:
            after(simulation, report)
        simulation.client.__exit__(None, None, None)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--months", type=int, default=12, choices=range(1, 13),
                        help="replay only the first months of the year")
    parser.add_argument("--scale", type=float, default=0.1,
                        help="share of the pilot's ~4,200 cases a year (default 0.1)")
    parser.add_argument("--seed", type=int, default=2008)
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "simulate")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="show the handlers' warnings")
    args = parser.parse_args(argv)
    _environment()
    if args.verbose:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    else:
        logging.disable(logging.WARNING)
    config = Config(year=args.year, months=args.months, scale=args.scale, seed=args.seed,
                    out=args.out, plot=not args.no_plot)
    return 0 if simulate(config) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
