"""End-to-end tests: the local stack started as `make run` starts it, reached over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    """A running local stack: its process, its state and an HTTP session."""

    def __init__(self, process: subprocess.Popen[str], state: dict[str, Any], state_dir: Path,
                 log: Path) -> None:
        self.process = process
        self.state = state
        self.state_dir = state_dir
        self.log = log
        self.api = state["api_url"]
        self.http = requests.Session()

    def wait_for(self, predicate: Any, timeout: float = 60, interval: float = 0.3) -> Any:
        """Poll ``predicate`` until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out; stack log:\n{self.log.read_text()[-4000:]}")


def start_stack(state_dir: Path, *extra: str) -> Stack:
    """Start ``python -m tools.stack`` on free ports and wait until it is ready."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / "stack.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.stack", "--port", str(free_port()), "--aws-port",
         str(free_port()), "--portal-port", str(free_port()), "--state-dir", str(state_dir),
         *extra],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True)
    state_file = state_dir / "stack.json"
    deadline = time.monotonic() + START_TIMEOUT
    while not state_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"stack did not start:\n{log.read_text()[-6000:]}")
        time.sleep(0.2)
    return Stack(process, json.loads(state_file.read_text()), state_dir, log)


def stop_stack(stack: Stack) -> int:
    """Ctrl-C, as a person would; returns the exit code."""
    stack.process.send_signal(signal.SIGINT)
    try:
        return stack.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One local stack for the end-to-end tests of a session."""
    running = start_stack(tmp_path_factory.mktemp("stack"), "--no-schedules")
    yield running
    stop_stack(running)
