"""Deploy the infra stacks (main, then department stacks) and collect their outputs.

Used by the local stack against the embedded AWS and by ``make deploy`` against AWS.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib import names
from tools import infra


def stack_name(stage: str, part: str = "") -> str:
    """CloudFormation stack name of a stage's main stack or one of its department stacks."""
    return f"{names.prefix(stage)}-infra{('-' + part) if part else ''}"


def _deploy(cf: Any, name: str, body: dict[str, Any], parameters: dict[str, str]) -> dict[str, str]:
    params = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    text = json.dumps(body, separators=(",", ":"))
    existing = {s["StackName"] for s in cf.list_stacks(
        StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"]
    )["StackSummaries"]}
    kwargs = {"StackName": name, "TemplateBody": text, "Parameters": params,
              "Capabilities": ["CAPABILITY_NAMED_IAM"]}
    if name in existing:
        try:
            cf.update_stack(**kwargs)
            cf.get_waiter("stack_update_complete").wait(StackName=name)
        except cf.exceptions.ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
    else:
        cf.create_stack(**kwargs)
        cf.get_waiter("stack_create_complete").wait(
            StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 600})
    stack = cf.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def deploy(cf: Any, stage: str) -> dict[str, str]:
    """Deploy every stack of ``stage``; returns all outputs merged."""
    outputs = _deploy(cf, stack_name(stage), infra.template(), {"Stage": stage})
    for number, codes in enumerate(infra.department_stacks(), start=1):
        outputs.update(_deploy(cf, stack_name(stage, f"departments-{number}"),
                               infra.department_template(codes),
                               {"Stage": stage, "AlarmTopicArn": outputs["AlarmTopicArn"]}))
    return outputs
