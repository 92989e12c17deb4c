"""Every Lambda function has its own least-privilege policy file, referenced from config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.names import STAGES, Function

ROOT = Path(__file__).resolve().parents[2]
# Statements where AWS offers no resource-level permission, and so requires "*".
RESOURCE_STAR_ALLOWED = {"Tracing": {"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
                         "Sms": {"sns:Publish"}}
POLICY_FILES = sorted((ROOT / "policies").rglob("*.json"))


def _referenced() -> set[Path]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    found = set()
    for stage in config["stages"].values():
        for function in stage["lambda_functions"].values():
            found.add((ROOT / ".chalice" / function["iam_policy_file"]).resolve())
    return found


def test_one_policy_per_function_and_stage() -> None:
    expected = {(ROOT / "policies" / s / f"{f.value}.json").resolve()
                for s in STAGES for f in Function}
    assert {p.resolve() for p in POLICY_FILES} == expected


def test_every_policy_file_is_referenced() -> None:
    assert {p.resolve() for p in POLICY_FILES} == _referenced()


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_policy_is_least_privilege(path: Path) -> None:
    policy = json.loads(path.read_text())
    assert policy["Version"] == "2012-10-17"
    stage = path.parent.name
    for statement in policy["Statement"]:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        for action in actions:
            assert action != "*" and not action.endswith(":*") and "*" not in action, action
        if "*" in resources:
            assert set(actions) <= RESOURCE_STAR_ALLOWED.get(statement["Sid"], set()), statement
        for resource in resources:
            if ":identity/" in resource:
                assert "ses:FromAddress" in json.dumps(statement.get("Condition")), statement
            elif resource != "*" and ":log-group:" not in resource:
                # Scoped to this stage's resources by name.
                assert (f"onestop-{stage}-" in resource or f"onestop-{stage}/" in resource
                        or ":key/" in resource), resource
