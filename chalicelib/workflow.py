"""The route step: opens accepted cases for review.

Department tasks, stages and licences build on this (see the workflow issue); until then the
step moves an accepted case into review and records it on the case's timeline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.contract import Status
from chalicelib.settings import Settings
from chalicelib.store import caselog, cases


def handle(settings: Settings, message: dict[str, Any], now: datetime) -> None:
    """Act on one route message (idempotent: a redelivery finds the case already moved)."""
    if message.get("kind") != "open":
        raise ValueError(f"unknown route message kind {message.get('kind')!r}")
    application = cases.find(message["receipt"])
    if application is None:
        raise LookupError("route message for an unknown receipt")
    if cases.move(application, {Status.ACCEPTED}, Status.IN_REVIEW, now):
        caselog.append(application.receipt, Status.IN_REVIEW.value, actor="route", at=now)
