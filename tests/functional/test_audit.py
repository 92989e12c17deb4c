"""The audit trail in DynamoDB: signed heads, and tampering with any single record detected.

A case's chain is built through the workflow and the audit recorders, its head signed by the
supervise pass with the platform's KMS key; then records are changed, deleted and swapped
directly in the table (what an insider with table access could do), and the operator's
verifier (``onestop-admin audit verify``) must name the first broken link each time.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from chalicelib import audit, supervision, workflow
from chalicelib.names import Table
from chalicelib.principal import Principal, Role
from chalicelib.routing import Decision
from chalicelib.store import audit as audit_store
from chalicelib.store import caselog
from tests.functional.conftest import REGION
from tests.functional.test_supervision import MONDAY_0921, single
from tests.functional.test_workflow import accepted_case, decide, officer, route_messages
from tools import admin

SUPERVISOR = Principal(Role.SUPERVISOR, "fp:audit-supervisor")


@pytest.fixture(scope="module")
def chain(trusted: Any) -> dict[str, Any]:
    """A decided case with staff reads and a signed head; the stored items, in order."""
    from chalicelib import runtime

    settings = runtime.ready()
    item = single("441200-test-audit", "zjj", 3)
    receipt = accepted_case(settings, item, now=MONDAY_0921)
    workflow.open_case(settings, receipt, MONDAY_0921)
    audit.record_read(receipt, officer("zjj"), MONDAY_0921 + timedelta(hours=1))
    audit.record_read(receipt, SUPERVISOR, MONDAY_0921 + timedelta(hours=2))
    decide(settings, receipt, 0, "zjj", Decision.APPROVE, MONDAY_0921 + timedelta(hours=3))
    audit.record_read(receipt, officer("zjj"), MONDAY_0921 + timedelta(hours=4))
    supervision.run(settings, MONDAY_0921 + timedelta(hours=5))
    route_messages(receipt)  # the licence is not this module's concern: leave no message
    table = boto3.client("dynamodb", region_name=REGION)
    name = settings.table(Table.CASELOG)
    items = table.query(TableName=name, KeyConditionExpression="receipt = :r",
                        ExpressionAttributeValues={":r": {"S": receipt}},
                        ConsistentRead=True)["Items"]
    return {"settings": settings, "receipt": receipt, "items": items, "table": table,
            "name": name}


@pytest.fixture
def restore(chain: dict[str, Any]) -> Iterator[None]:
    """Put every record back as it was after each tampering."""
    yield
    table, name = chain["table"], chain["name"]
    stored = table.query(TableName=name, KeyConditionExpression="receipt = :r",
                         ExpressionAttributeValues={":r": {"S": chain["receipt"]}})["Items"]
    for item in stored:
        table.delete_item(TableName=name, Key={"receipt": item["receipt"], "seq": item["seq"]})
    for item in chain["items"]:
        table.put_item(TableName=name, Item=item)
    assert audit.verify_chain(chain["settings"], chain["receipt"]).ok


def verify(chain: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The operator's command, as JSON."""
    code = admin.audit_command(argparse.Namespace(chain=chain["receipt"], json=True))
    verdict = dict(json.loads(capsys.readouterr().out))
    assert code == (0 if verdict["ok"] else 1)
    return verdict


def positions(chain: dict[str, Any]) -> range:
    return range(len(chain["items"]))


def test_the_chain_holds_and_its_head_is_signed(chain: dict[str, Any],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    kinds = [i["kind"]["S"] for i in chain["items"]]
    assert kinds.count(audit.STAFF_READ) == 3 and "DECISION" in kinds and "APPROVED" in kinds
    verdict = verify(chain, capsys)
    assert verdict["ok"] and verdict["records"] == len(chain["items"])
    [head] = audit_store.heads(chain["receipt"])
    assert head.seq == len(chain["items"]) - 1
    admin.audit_command(argparse.Namespace(chain=chain["receipt"], json=False))
    assert "OK" in capsys.readouterr().out


def test_mutating_any_single_record_is_detected(chain: dict[str, Any], restore: None,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    for seq in positions(chain):
        original = chain["items"][seq]
        data = json.loads(original["data"]["S"])
        changed = {**original, "data": {"S": json.dumps({**data, "tampered": True})}}
        chain["table"].put_item(TableName=chain["name"], Item=changed)
        verdict = verify(chain, capsys)
        assert verdict["first_broken"] == seq, (seq, verdict)
        assert "changed" in verdict["reason"]
        chain["table"].put_item(TableName=chain["name"], Item=original)


def test_deleting_any_single_record_is_detected(chain: dict[str, Any], restore: None,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    last = len(chain["items"]) - 1
    for seq in positions(chain):
        original = chain["items"][seq]
        chain["table"].delete_item(TableName=chain["name"],
                                   Key={"receipt": original["receipt"], "seq": original["seq"]})
        verdict = verify(chain, capsys)
        # The newest record has no successor to miss it: the signed head does.
        assert verdict["first_broken"] == seq, (seq, verdict)
        assert ("removed" if seq == last else "missing") in verdict["reason"]
        chain["table"].put_item(TableName=chain["name"], Item=original)


def test_reordering_any_two_records_is_detected(chain: dict[str, Any], restore: None,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    items = chain["items"]
    pairs = [(i, i + 1) for i in range(len(items) - 1)] + [(0, len(items) - 1)]
    for i, j in pairs:
        first = {**items[j], "seq": items[i]["seq"]}
        second = {**items[i], "seq": items[j]["seq"]}
        chain["table"].put_item(TableName=chain["name"], Item=first)
        chain["table"].put_item(TableName=chain["name"], Item=second)
        verdict = verify(chain, capsys)
        assert verdict["first_broken"] == i, ((i, j), verdict)
        chain["table"].put_item(TableName=chain["name"], Item=items[i])
        chain["table"].put_item(TableName=chain["name"], Item=items[j])


def test_a_rebuilt_chain_is_caught_by_the_signed_head(chain: dict[str, Any], restore: None,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """An insider rewrites record 2 and re-hashes everything after it: every link holds."""
    from chalicelib.store.models import CaseLogModel

    records = caselog.records(chain["receipt"])
    prev = records[1].hash
    for record in records[2:]:
        data = {**record.data, "decision": "deny"} if record.seq == 2 else dict(record.data)
        digest = audit.record_hash(record.receipt, int(record.seq), record.at, record.kind,
                                   record.actor, bool(record.public), data, prev)
        CaseLogModel(record.receipt, record.seq, at=record.at, kind=record.kind,
                     actor=record.actor, public=record.public, data=data, prev_hash=prev,
                     hash=digest).save()
        prev = digest
    verdict = verify(chain, capsys)
    assert not verdict["ok"] and "rewritten" in verdict["reason"]
    assert verdict["first_broken"] == 0  # no earlier head vouches for anything


def test_new_records_get_a_new_signed_head(chain: dict[str, Any], restore: None,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    settings, receipt = chain["settings"], chain["receipt"]
    at = MONDAY_0921 + timedelta(days=1)
    audit.record_read(receipt, SUPERVISOR, at)
    assert supervision.run(settings, at)["heads_signed"] >= 1
    heads = audit_store.heads(receipt)
    assert [h.seq for h in heads][-1] == len(chain["items"])
    assert verify(chain, capsys)["ok"]
    assert supervision.run(settings, at)["heads_signed"] == 0  # nothing new: nothing signed
    # Undo the extra read for the other tests (the restore fixture puts the rest back).
    chain["table"].delete_item(TableName=chain["name"], Key={
        "receipt": {"S": receipt}, "seq": {"N": str(len(chain["items"]))}})
    from chalicelib.store.models import SupervisionModel

    SupervisionModel(f"head#{receipt}", f"{len(chain['items']):012d}").delete()


def test_logins_have_their_own_chain(settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    who = officer("zjj", "李科员")
    audit.record_login(who, MONDAY_0921)
    audit.record_login(who, MONDAY_0921 + timedelta(hours=8))
    supervision.run(settings, MONDAY_0921 + timedelta(hours=9))
    chain = audit.login_chain(who.subject)
    assert admin.audit_command(argparse.Namespace(chain=chain, json=True)) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["records"] == 2 and verdict["signed_heads"] == 1

