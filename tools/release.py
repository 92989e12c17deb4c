"""``make deploy STAGE=dev|prod``: the platform team's deploy sequence, scripted.

1. Deploy the infra stacks (main, then department stacks) with CloudFormation.
2. Render ``.chalice/config.json`` and ``policies/<stage>/`` with the account id, so every
   environment variable and policy names the stage's real resources; check them against the
   stack outputs.
3. ``chalice deploy --stage <stage>`` (event sources are bound to the stage's queue names).

No step after chalice is needed for SQS batches: consumers delete their handled records
themselves and raise for the rest (see README, "Batch failures"), so the event source mappings
need no ``ReportBatchItemFailures`` setting.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import boto3

from chalicelib import names
from chalicelib.names import Bucket, Queue, Table
from tools import deploy, infra

ROOT = Path(__file__).resolve().parent.parent


def check_outputs(stage: str, account: str, outputs: dict[str, str]) -> None:
    """The names the functions will be given are the names CloudFormation created."""
    env = infra.environment(stage, account)
    expected = {names.output_name(t): env[names.env_var(t)] for t in Table}
    expected |= {names.output_name(b): env[names.env_var(b)] for b in Bucket}
    expected |= {names.output_name(q): env[names.env_var(q)] for q in Queue}
    wrong = {k: (v, outputs.get(k)) for k, v in expected.items() if outputs.get(k) != v}
    if wrong:
        raise SystemExit(f"stack outputs differ from the configured names: {wrong}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, choices=[s for s in names.STAGES
                                                           if s != "local"])
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", names.DEFAULT_REGION))
    parser.add_argument("--skip-chalice", action="store_true",
                        help="deploy the infra stacks and render config only")
    args = parser.parse_args(argv)
    session = boto3.session.Session(region_name=args.region)
    account = session.client("sts").get_caller_identity()["Account"]
    print(f"deploying onestop stage {args.stage} to account {account} in {args.region}")
    outputs = deploy.deploy(session.client("cloudformation"), args.stage)
    check_outputs(args.stage, account, outputs)
    for path, content in infra.render({args.stage: account}).items():
        if path.name.endswith(".json") and (path == infra.CONFIG
                                            or path.parent.name == args.stage):
            path.write_text(content, encoding="utf-8")
    print("rendered .chalice/config.json and policies/ for", args.stage)
    if args.skip_chalice:
        return 0
    env = dict(os.environ, ONESTOP_STAGE=args.stage)
    chalice = Path(sys.executable).with_name("chalice")
    return subprocess.call([str(chalice), "deploy", "--stage", args.stage], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
