"""Benchmark: what one supervision pass reads with 1,000 and with 100,000 closed cases.

The pass reads running clocks from the tasks table's sparse open-index, up to the last due date
that can deserve a warning today, and the warning records of those tasks; finished cases are
not in the index, so they cost nothing. This prints the DynamoDB items read (every item a Query,
GetItem or BatchGetItem returned to our code, counted on every botocore client) and the wall
time of one pass, on moto in-process, for both table sizes.

Run ``python bench/supervision.py [--large 100000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REGION = "cn-north-1"


def _environment() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(config["stages"]["local"]["environment_variables"])
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                       "ONESTOP_PEPPER": "bench-pepper"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args(argv)
    _environment()
    import logging

    logging.disable(logging.WARNING)
    import boto3
    from moto import mock_aws

    from chalicelib import runtime
    from tests.functional import test_supervision_scale as scale
    from tools import deploy, moto_patches

    moto_patches.apply()
    with mock_aws():
        deploy.deploy(boto3.client("cloudformation", region_name=REGION), "local")
        runtime.reset()
        settings = runtime.ready()
        scale.add_running(scale.RUNNING)
        scale.add_closed(settings, 0, args.small)
        scale.measured_pass(settings)  # records the warnings due
        started = time.perf_counter()
        few, _ = scale.measured_pass(settings)
        few_wall = time.perf_counter() - started
        scale.add_closed(settings, args.small, args.large - args.small)
        started = time.perf_counter()
        many, summary = scale.measured_pass(settings)
        many_wall = time.perf_counter() - started
    print(f"one supervision pass at {scale.NOW.isoformat()}, {scale.RUNNING} running clocks, "
          f"{summary['running_due']} of them due within a working day or overdue")
    print(scale.describe(args.small, few) + f"; {few_wall * 1000:.0f} ms on moto")
    print(scale.describe(args.large, many) + f"; {many_wall * 1000:.0f} ms on moto")
    print("items read identical:", "yes" if few.items == many.items else "NO")
    print("(moto answers a GSI query by walking the whole table in Python, so its wall time "
          "grows with the table; DynamoDB reads only the index partition)")
    return 0 if few.items == many.items else 1


if __name__ == "__main__":
    sys.exit(main())
