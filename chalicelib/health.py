"""``GET /health``: versions, stage, and whether each backbone resource answers."""

from __future__ import annotations

import platform
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from importlib import metadata
from typing import Any

from chalicelib import __version__, keys, queues
from chalicelib.clients import client
from chalicelib.settings import Settings

_PACKAGES = ("chalice", "boto3", "pynamodb", "cryptography", "asn1crypto", "aws-xray-sdk")


def versions() -> dict[str, str]:
    """Versions of onestop, Python and the libraries that matter to an operator."""
    found = {"onestop": __version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def _probe(check: Callable[[], Any]) -> dict[str, Any]:
    try:
        check()
    except Exception as exc:  # a health check reports, it never raises
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def check(settings: Settings) -> dict[str, Any]:
    """Probe every table, queue, bucket and the signing key, in parallel."""
    probes: dict[str, Callable[[], Any]] = {}
    for table, name in settings.tables.items():
        probes[f"table:{table.value}"] = partial(client("dynamodb").describe_table, TableName=name)
    for queue, name in settings.queues.items():
        probes[f"queue:{queue.value}"] = partial(queues.queue_url, name)
    for bucket, name in settings.buckets.items():
        probes[f"bucket:{bucket.value}"] = partial(client("s3").head_bucket, Bucket=name)
    probes["key:signing"] = partial(keys.describe, settings.key_alias)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = dict(zip(probes, pool.map(_probe, probes.values()), strict=True))
    return {
        "status": "ok" if all(r["ok"] for r in results.values()) else "degraded",
        "stage": settings.stage,
        "versions": versions(),
        "resources": results,
    }
