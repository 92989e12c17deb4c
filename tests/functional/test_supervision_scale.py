"""Scale: one supervision pass reads the same items with 1,000 or 100,000 closed cases.

The closed cases' tasks are written straight into the embedded DynamoDB (moto's backend, the
fast way to hold 100,000 items), with due dates in the very days the pass looks at, so that
anything but the sparse open-index would have to read them. Items read are counted at the
DynamoDB level: every item a Query, GetItem or BatchGetItem returned to our code, on every
client (boto3's and pynamodb's). Both figures are printed (``pytest -s``, or
``python bench/supervision.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib import supervision
from chalicelib.names import LOCAL_ACCOUNT_ID, Table
from chalicelib.settings import Settings
from chalicelib.store import tasks
from chalicelib.store.models import TaskModel
from chalicelib.workcalendar import CHINA

# Tuesday 1 July 2025, 09:00 in China: a quiet week (no other test has running clocks then).
NOW = datetime(2025, 7, 1, 9, tzinfo=CHINA).astimezone(UTC)
DUE_DAYS = [date(2025, 6, 26) + timedelta(days=n) for n in range(10)]
RUNNING = 30


@dataclass
class Reads:
    """DynamoDB items returned to our code, by operation."""

    items: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)


@contextmanager
def dynamodb_reads() -> Iterator[Reads]:
    """Count the items every DynamoDB read returns while the block runs."""
    from botocore.client import BaseClient

    reads = Reads()
    original = BaseClient._make_api_call

    def counting(client: Any, operation: str, params: dict[str, Any]) -> Any:
        answer = original(client, operation, params)
        if client.meta.service_model.service_name == "dynamodb":
            reads.calls[operation] += 1
            if operation in ("Query", "Scan"):
                got = int(answer.get("Count", 0))
            elif operation == "GetItem":
                got = 1 if "Item" in answer else 0
            elif operation == "BatchGetItem":
                got = sum(len(v) for v in answer.get("Responses", {}).values())
            elif operation == "TransactGetItems":
                got = len(answer.get("Responses", []))
            else:
                got = 0
            reads.items += got
            reads.by_operation[operation] += got
        return answer

    BaseClient._make_api_call = counting
    try:
        yield reads
    finally:
        BaseClient._make_api_call = original


def moto_table(settings: Settings, table: Table) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[LOCAL_ACCOUNT_ID][settings.region].get_table(settings.table(table))


def closed_task_item(number: int) -> dict[str, Any]:
    """A closed case's task, as DynamoDB stores it (no ``open_shard``: not in the index)."""
    receipt = f"20250601C{number:09d}"
    due = DUE_DAYS[number % len(DUE_DAYS)].isoformat()
    key = "00#gsj"
    return {"receipt": {"S": receipt}, "task_key": {"S": key}, "department": {"S": "gsj"},
            "stage": {"N": "0"}, "state": {"S": "closed"},
            "due_sort": {"S": tasks.due_sort(tasks.CLOSED, due, receipt, key)},
            "due_date": {"S": due}, "working_days": {"N": "5"},
            "service_code": {"S": "441200-gsj-0001"},
            "opened_at": {"S": "2025-06-20T01:00:00.000000+0000"},
            "closed_at": {"S": "2025-06-25T01:00:00.000000+0000"},
            "decision": {"S": "approve"}, "early_days": {"N": "1"}}


def add_closed(settings: Settings, first: int, count: int) -> None:
    """Write closed cases' tasks straight into the embedded DynamoDB."""
    table = moto_table(settings, Table.TASKS)
    for number in range(first, first + count):
        table.put_item(closed_task_item(number))


def remove_closed(settings: Settings, count: int) -> None:
    """Take them out again (the session's other tests query the same table)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = moto_table(settings, Table.TASKS)
    for number in range(count):
        item = closed_task_item(number)
        table.delete_item(DynamoType(item["receipt"]), DynamoType(item["task_key"]))


def add_running(count: int) -> list[str]:
    """Running clocks due around ``NOW``: overdue, due within a working day, and later."""
    receipts = []
    for number in range(count):
        receipt = f"20250601R{number:09d}"
        due = DUE_DAYS[number % len(DUE_DAYS)].isoformat()
        tasks.new_task(receipt, 0, "gsj", due_date=due, working_days=5,
                       service_code="441200-gsj-0001",
                       now=NOW - timedelta(days=10)).save()
        receipts.append(receipt)
    return receipts


def measured_pass(settings: Settings) -> tuple[Reads, dict[str, Any]]:
    """One pass at ``NOW``, with its DynamoDB reads counted."""
    with dynamodb_reads() as reads:
        summary = supervision.run(settings, NOW)
    return reads, summary


def describe(closed: int, reads: Reads) -> str:
    ops = ", ".join(f"{op} {n}" for op, n in sorted(reads.by_operation.items()))
    calls = sum(reads.calls.values())
    return (f"{closed:>7,} closed cases: {reads.items} DynamoDB items read in one pass "
            f"({ops}; {calls} calls)")


def scale_figures(settings: Settings, small: int = 1_000, large: int = 100_000
                  ) -> tuple[Reads, Reads, dict[str, Any]]:
    """The two steady-state passes (warnings already recorded), with the summary of the first
    pass that recorded them."""
    add_running(RUNNING)
    add_closed(settings, 0, small)
    _, first = measured_pass(settings)  # records the warnings due by NOW
    few, _ = measured_pass(settings)
    add_closed(settings, small, large - small)
    many, _ = measured_pass(settings)
    return few, many, first


@pytest.fixture
def cleanup(settings: Settings) -> Iterator[None]:
    yield
    remove_closed(settings, 100_000)
    for number in range(RUNNING):
        TaskModel(f"20250601R{number:09d}", "00#gsj").delete()


def test_one_pass_reads_the_same_items_with_1000_or_100000_closed_cases(
        settings: Settings, cleanup: None) -> None:
    few, many, first = scale_figures(settings)
    print()
    print(describe(1_000, few))
    print(describe(100_000, many))
    assert first["warnings"] > 0 and first["running_due"] < RUNNING  # later ones not read
    assert many.items == few.items
    assert many.by_operation == few.by_operation
    # What it reads is what is due: the running tasks in the window and their warnings.
    assert few.by_operation["Query"] == first["running_due"]
