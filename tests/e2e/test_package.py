"""`make package`: chalice packages the app for a cloud stage and the result lints clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import names
from chalicelib.names import FUNCTION_MEMORY, FUNCTION_TIMEOUT, Function, Queue

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("package") / "out"
    env = dict(os.environ, ONESTOP_STAGE="dev", AWS_DEFAULT_REGION="cn-north-1")
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run([str(chalice), "package", "--stage", "dev", "--pkg-format", "cloudformation",
                    str(out)], cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    lint = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), str(out / "sam.json")],
                          capture_output=True, text=True, timeout=300)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    return json.loads((out / "sam.json").read_text())


def test_every_function_has_its_timeout_memory_tracing_and_own_policy(package: dict) -> None:
    # The REST API's handler is the app object itself; the others are named functions.
    functions = {r["Properties"]["Handler"].removeprefix("app."): r["Properties"]
                 for r in package["Resources"].values()
                 if r["Type"] == "AWS::Serverless::Function"}
    assert len(functions) == len(Function)
    roles = {k: r for k, r in package["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    for function in Function:
        props = functions["app" if function is Function.API else function.value]
        assert props["Timeout"] == FUNCTION_TIMEOUT[function]
        assert props["MemorySize"] == FUNCTION_MEMORY[function]
        assert props["Tracing"] == "Active"
        role = roles[props["Role"]["Fn::GetAtt"][0]]
        document = role["Properties"]["Policies"][0]["PolicyDocument"]
        expected = json.loads((ROOT / "policies" / "dev" / f"{function.value}.json").read_text())
        assert document == expected


def test_queue_consumers_are_bound_to_the_stage_queues(package: dict) -> None:
    queues = set()
    for resource in package["Resources"].values():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event["Type"] == "SQS":
                queues.add(event["Properties"]["Queue"]["Fn::Sub"].rsplit(":", 1)[-1])
    assert queues == {names.queue_name("dev", q) for q in Queue}
