"""The command-line client and the operator command against the running local stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def run(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_printed_example_submits_and_the_case_is_tracked(stack) -> None:
    example = stack.state["demo"]["example"].replace("{api}", stack.api)
    args = example.split()[1:]  # drop ".venv/bin/onestop"
    accepted = json.loads(run("tools.client", *args))
    assert accepted["status"] == "RECEIVED"
    assert accepted["links"]["track"].startswith(stack.api)

    def reviewed() -> dict | None:
        view = json.loads(run("tools.client", "--api", stack.api, "track",
                              accepted["receipt"], accepted["tracking_code"]))
        return view if view["status"] == "IN_REVIEW" else None

    view = stack.wait_for(reviewed, timeout=60, interval=0.5)
    states = [e["event"] for e in view["timeline"] if e["event"] != "NOTIFIED"]
    assert states[:2] == ["ACCEPTED", "IN_REVIEW"]
    # The applicant was told it arrived: the delivery is on the case's own timeline.
    assert any(e["event"] == "NOTIFIED" for e in view["timeline"])


def test_operator_lists_and_changes_the_trust_store(stack, tmp_path) -> None:
    state = str(stack.state_dir / "stack.json")
    listed = run("tools.admin", "--state-file", state, "trust", "list").split()
    assert "roots/onestop-root.pem" in listed
    assert "crls/onestop-citizen-ca.crl" in listed
    extra = tmp_path / "extra-root.pem"
    extra.write_bytes((stack.state_dir / "pki" / "rogue.pem").read_bytes())
    run("tools.admin", "--state-file", state, "trust", "add", str(extra), "--kind", "root")
    assert "roots/extra-root.pem" in run("tools.admin", "--state-file", state, "trust",
                                         "list").split()
    run("tools.admin", "--state-file", state, "trust", "remove", "roots/extra-root.pem")
    assert "roots/extra-root.pem" not in run("tools.admin", "--state-file", state, "trust",
                                             "list").split()
    bad = tmp_path / "not-a-cert.pem"
    bad.write_text("hello")
    refused = subprocess.run([sys.executable, "-m", "tools.admin", "--state-file", state,
                              "trust", "add", str(bad), "--kind", "root"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode != 0
