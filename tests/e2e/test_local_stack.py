"""`make run`'s stack: deploys the real template, answers /health, writes stack.json, stops."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import start_stack, stop_stack

pytestmark = pytest.mark.e2e


def test_health_reports_every_backbone_resource(stack) -> None:
    answer = stack.http.get(f"{stack.api}/health", timeout=30)
    assert answer.status_code == 200, answer.text
    health = answer.json()
    assert health["status"] == "ok"
    assert health["stage"] == "local"
    assert {"onestop", "python", "chalice", "boto3"} <= set(health["versions"])
    kinds = {name.split(":")[0] for name in health["resources"]}
    assert kinds == {"table", "queue", "bucket", "key"}
    assert all(r["ok"] for r in health["resources"].values())


def test_stack_json_holds_the_cloudformation_outputs(stack) -> None:
    state = json.loads((stack.state_dir / "stack.json").read_text())
    assert state["api_url"].startswith("http://127.0.0.1:")
    assert state["aws_endpoint_url"].startswith("http://127.0.0.1:")
    assert state["region"]
    assert state["outputs"]["TrustBucketName"].startswith("onestop-local-trust-")
    assert "VerifyQueueUrl" in state["outputs"]


def test_a_second_run_starts_cleanly_and_ctrl_c_stops_it(tmp_path) -> None:
    for _ in range(2):
        started = time.monotonic()
        running = start_stack(tmp_path, "--no-schedules")
        assert running.http.get(f"{running.api}/health", timeout=30).status_code == 200
        assert time.monotonic() - started < 60
        assert stop_stack(running) == 0
        (tmp_path / "stack.json").unlink()
