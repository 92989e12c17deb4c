"""Validation evidence of a case: the report (after the EU DSS simple report) and signature."""

from __future__ import annotations

import base64
import json
from typing import Any

from botocore.exceptions import ClientError as BotoClientError

from chalicelib import storage
from chalicelib.errors import NotFound
from chalicelib.names import Bucket
from chalicelib.settings import Settings


def report_key(receipt: str) -> str:
    """Where a case's validation report lives in the evidence bucket."""
    return f"validation/{receipt}/report.json"


def signature_key(receipt: str) -> str:
    """Where a case's original signature bytes live in the evidence bucket."""
    return f"validation/{receipt}/signature.p7s"


def store(settings: Settings, receipt: str, report: dict[str, Any], signature: bytes) -> None:
    """Write the report and the signature (the bucket is versioned: every run is kept)."""
    bucket = settings.bucket(Bucket.EVIDENCE)
    storage.put(bucket, report_key(receipt),
                json.dumps(report, ensure_ascii=False, sort_keys=True, default=str).encode(),
                content_type="application/json")
    storage.put(bucket, signature_key(receipt), signature,
                content_type="application/pkcs7-signature")


def read(settings: Settings, receipt: str) -> dict[str, Any]:
    """The report and the base64 signature; ``NotFound`` before verification has run."""
    bucket = settings.bucket(Bucket.EVIDENCE)
    try:
        report = json.loads(storage.get(bucket, report_key(receipt)))
        signature = storage.get(bucket, signature_key(receipt))
    except BotoClientError as exc:
        raise NotFound("尚无验证报告", "no validation report yet",
                       details={"receipt": receipt}) from exc
    return {"receipt": receipt, "report": report,
            "signature": base64.b64encode(signature).decode()}
