"""Audit records are never updated or deleted by any function's IAM policy."""

from __future__ import annotations

from chalicelib import names
from chalicelib.names import STAGES, Function, Table
from tools import infra

WRITES = {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
          "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert"}


def caselog_actions(stage: str = "local") -> dict[str, set[str]]:
    """Per function, every action its policy allows on the case log table."""
    table = names.table_name(stage, Table.CASELOG)
    found: dict[str, set[str]] = {}
    for function in Function:
        actions: set[str] = set()
        for statement in infra.policy(function, stage)["Statement"]:
            resources = statement["Resource"]
            resources = [resources] if isinstance(resources, str) else resources
            if any(r == "*" or r.endswith(f"table/{table}") or f"table/{table}/" in r
                   for r in resources):
                actions |= {a for a in statement["Action"] if a.startswith("dynamodb:")}
        found[function.value] = actions
    return found


def test_no_function_updates_or_deletes_the_case_log() -> None:
    for stage in STAGES:
        for function, actions in caselog_actions(stage).items():
            assert not actions & WRITES, (stage, function, actions & WRITES)


def test_the_writers_of_the_case_log_may_only_append() -> None:
    appenders = {f for f, actions in caselog_actions().items() if "dynamodb:PutItem" in actions}
    assert appenders == {Function.API.value, Function.VERIFY.value, Function.ROUTE.value,
                         Function.NOTIFY.value, Function.SUPERVISE.value}


def test_only_the_supervise_function_writes_signed_heads() -> None:
    table = names.table_name("local", Table.SUPERVISION)
    for function in Function:
        for statement in infra.policy(function, "local")["Statement"]:
            if not any(r.endswith(f"table/{table}") for r in statement["Resource"]):
                continue
            writes = set(statement["Action"]) & {"dynamodb:PutItem", "dynamodb:UpdateItem",
                                                 "dynamodb:DeleteItem"}
            if writes and function is not Function.SUPERVISE:
                # Others may mark a chain as waiting for its head and record ratings and
                # findings, but never write a signed head (``head#…``).
                leading = statement["Condition"]["ForAllValues:StringLike"][
                    "dynamodb:LeadingKeys"]
                assert set(leading) <= {"unsigned#*", "rating#*", "finding#*"}, (function,
                                                                                  statement)
