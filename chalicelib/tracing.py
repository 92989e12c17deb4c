"""Tracing behind one small module, so that it can move to OpenTelemetry later.

The X-Ray SDK is patched once, and only when the stage turns tracing on: tests and the local stack
run without a daemon. Annotations carry ids only, never personal data.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)

_enabled = False
# Annotation keys allowed on a segment: ids and codes, never names, ID numbers or phones.
SAFE_ANNOTATIONS = frozenset(
    {"receipt", "service_code", "department", "task_id", "status", "reason", "queue", "stage"}
)


def setup(enabled: bool) -> None:
    """Patch boto3/botocore for X-Ray once, if ``enabled``; otherwise make the SDK silent."""
    global _enabled
    if _enabled or not enabled:
        if not enabled:
            _disable_sdk()
        return
    from aws_xray_sdk.core import patch, xray_recorder

    xray_recorder.configure(context_missing="LOG_ERROR")
    patch(["boto3", "botocore"])
    _enabled = True


def _disable_sdk() -> None:
    try:
        from aws_xray_sdk import global_sdk_config

        global_sdk_config.set_sdk_enabled(False)
    except ImportError:  # pragma: no cover - the SDK is a runtime dependency
        pass


@contextlib.contextmanager
def subsegment(name: str, **annotations: Any) -> Iterator[None]:
    """Time a piece of work in its own subsegment, annotated with safe ids only."""
    unsafe = set(annotations) - SAFE_ANNOTATIONS
    if unsafe:
        raise ValueError(f"annotations not allowed in traces: {sorted(unsafe)}")
    if not _enabled:
        yield
        return
    from aws_xray_sdk.core import xray_recorder

    with xray_recorder.in_subsegment(name) as seg:
        if seg is not None:
            for key, value in annotations.items():
                seg.put_annotation(key, str(value))
        yield
