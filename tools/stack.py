"""The local pilot stack: embedded AWS, the real template, the API and the workers.

``make run`` calls ``python -m tools.stack``. It starts moto's server on loopback, deploys
``infra/*.json`` into it through CloudFormation, loads the pilot catalog and the demo PKI,
serves the Chalice app on http://127.0.0.1:8000, builds and serves the portal on
http://127.0.0.1:8001 (``tools.portal``), delivers queue messages and schedules to the
same handlers Lambda would run, writes ``.local/stack.json`` and waits for Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAGE = "local"
log = logging.getLogger("onestop.local")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def stage_environment(aws_endpoint: str, region: str) -> dict[str, str]:
    """The local stage's variables from ``.chalice/config.json`` plus the embedded AWS."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    env = dict(config["stages"][STAGE]["environment_variables"])
    env.update({
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "ONESTOP_PEPPER": "local-pepper-not-secret",
    })
    return env


class LocalStack:
    """Everything ``make run`` starts, in one process."""

    def __init__(self, *, api_port: int = 8000, aws_port: int = 4566,
                 state_dir: Path = ROOT / ".local", schedules: bool = True,
                 portal_port: int | None = 8001) -> None:
        self.api_port = api_port
        self.portal_port = portal_port
        self.aws_port = aws_port
        self.state_dir = state_dir
        self.schedules = schedules
        self.region = "cn-north-1"
        self.aws_endpoint = f"http://127.0.0.1:{aws_port}"
        self.api_url = f"http://127.0.0.1:{api_port}"
        self._moto: Any = None
        self._http: Any = None
        self._portal: Any = None
        self._threads: list[Any] = []

    def start(self) -> dict[str, Any]:
        """Start every part; returns what is written to ``stack.json``."""
        for port in (self.api_port, self.aws_port, self.portal_port):
            if port is None:
                continue
            if not _port_free(port):
                raise SystemExit(f"port {port} is in use on 127.0.0.1: is another stack running? "
                                 f"(choose others with --port/--aws-port/--portal-port)")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        from tools import portal

        # Built first: a missing Node.js or a broken build is said before anything starts.
        dist = portal.build() if self.portal_port is not None else None
        from moto.server import ThreadedMotoServer

        from tools import moto_patches

        moto_patches.apply()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.aws_port, verbose=False)
        self._moto.start()
        os.environ.update(stage_environment(self.aws_endpoint, self.region))
        os.environ["ONESTOP_PUBLIC_URL"] = self.api_url
        import boto3

        from tools import deploy

        cf = boto3.client("cloudformation", region_name=self.region,
                          endpoint_url=self.aws_endpoint)
        outputs = deploy.deploy(cf, STAGE)
        from tools import bootstrap

        demo = bootstrap.load(self.state_dir, outputs)
        self._start_app()
        portal_url = None
        if dist is not None and self.portal_port is not None:
            self._portal = portal.PortalServer(self.portal_port, dist, self.api_url)
            self._portal.start()
            portal_url = self._portal.url
        state = {"api_url": self.api_url, "portal_url": portal_url,
                 "aws_endpoint_url": self.aws_endpoint,
                 "region": self.region, "stage": STAGE, "outputs": outputs, "demo": demo}
        state_file = self.state_dir / "stack.json"
        state_file.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n",
                              encoding="utf-8")
        return {**state, "state_file": _relative(state_file)}

    def _start_app(self) -> None:
        from chalice.app import ScheduledEventConfig, SQSEventConfig
        from chalice.cli.factory import CLIFactory
        from chalice.local import create_local_server

        sys.path.insert(0, str(ROOT))
        from app import app
        from chalicelib.clients import client
        from tools.lambda_shim import QueueWorker, Scheduler, rate_seconds

        config = CLIFactory(str(ROOT)).create_config_obj(chalice_stage_name=STAGE)
        self._http = create_local_server(app, config, "127.0.0.1", self.api_port)
        http_thread = threading.Thread(target=self._http.serve_forever, name="api", daemon=True)
        http_thread.start()
        sqs = client("sqs")
        jobs = []
        for source in app.event_sources:
            handler = app.handler_map[source.name]
            if isinstance(source, SQSEventConfig) and source.queue:
                url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                    "Attributes"]["QueueArn"]
                worker = QueueWorker(sqs, url, arn, self.region, handler, source.name,
                                     source.batch_size)
                worker.start()
                self._threads.append(worker)
            elif isinstance(source, ScheduledEventConfig):
                jobs.append((source.name, rate_seconds(source.schedule_expression), handler))
        if self.schedules and jobs:
            scheduler = Scheduler(jobs, self.region)
            scheduler.start()
            self._threads.append(scheduler)

    def stop(self) -> None:
        """Stop workers, the API server and the embedded AWS."""
        for thread in self._threads:
            thread.stop()
        if self._portal is not None:
            self._portal.stop()
        if self._http is not None:
            self._http.server.shutdown()
            self._http.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._moto is not None:
            self._moto.stop()


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def banner(state: dict[str, Any]) -> str:
    """What a newcomer needs to start using the stack."""
    demo = state.get("demo", {})
    lines = [
        "",
        "onestop local pilot stack is up",
        f"  API:            {state['api_url']}   (try: curl {state['api_url']}/health)",
        *([f"  portal:         {state['portal_url']}   (网上办事大厅, the citizens' portal; "
            "API under /api)"] if state.get("portal_url") else []),
        f"  embedded AWS:   {state['aws_endpoint_url']}  (region {state['region']})",
        f"  stack outputs:  {state['state_file']}",
    ]
    if demo.get("pki_dir"):
        lines.append(f"  demo PKI:       {demo['pki_dir']}  (root, intermediate, citizen, "
                     "company and officer certificates with their keys)")
    if demo.get("example"):
        example = demo["example"].replace("{api}", state["api_url"])
        lines += ["", "Sign and submit an application as the demo citizen (张三):", f"  {example}",
                  "then follow it with: .venv/bin/onestop track <receipt> <tracking_code>"]
    lines += ["", "Ctrl-C stops everything.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the onestop local pilot stack.")
    parser.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    parser.add_argument("--aws-port", type=int, default=4566,
                        help="embedded AWS port (default 4566)")
    parser.add_argument("--portal-port", type=int, default=8001,
                        help="portal port (default 8001)")
    parser.add_argument("--no-portal", action="store_true",
                        help="do not build or serve the portal")
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".local")
    parser.add_argument("--no-schedules", action="store_true",
                        help="do not run the scheduled handlers")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("werkzeug", "botocore", "pynamodb", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    started = time.monotonic()
    stack = LocalStack(api_port=args.port, aws_port=args.aws_port, state_dir=args.state_dir,
                       schedules=not args.no_schedules,
                       portal_port=None if args.no_portal else args.portal_port)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        state = stack.start()
        print(banner(state), flush=True)
        log.info("ready in %.1f s", time.monotonic() - started)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping…", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
