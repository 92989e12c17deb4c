"""onestop's Chalice app: routes and event handlers only; the work happens in chalicelib."""

from __future__ import annotations

import logging
import os
from typing import Any

from chalice import Chalice, Rate

from chalicelib import names
from chalicelib.api import register_routes
from chalicelib.names import Queue

app = Chalice(app_name=names.APP_NAME)
app.log.setLevel(logging.INFO)

# Event sources are bound to names at import time: `make deploy` exports ONESTOP_STAGE.
STAGE = os.environ.get("ONESTOP_STAGE", "local")

register_routes(app)


@app.on_sqs_message(queue=names.queue_name(STAGE, Queue.VERIFY), batch_size=10,
                    name=names.Function.VERIFY.value)
def verify(event: Any) -> dict[str, int]:
    """CA-signature verification of received applications."""
    from chalicelib.consumers import verify_batch

    return verify_batch(event.to_dict()["Records"])


@app.on_sqs_message(queue=names.queue_name(STAGE, Queue.ROUTE), batch_size=10,
                    name=names.Function.ROUTE.value)
def route(event: Any) -> dict[str, int]:
    """Open cases and stages; send tasks to department queues; close cases."""
    from chalicelib.consumers import route_batch

    return route_batch(event.to_dict()["Records"])


@app.on_sqs_message(queue=names.queue_name(STAGE, Queue.NOTIFY), batch_size=10,
                    name=names.Function.NOTIFY.value)
def notify(event: Any) -> dict[str, int]:
    """Notifications to applicants and officers, with delivery receipts."""
    from chalicelib.consumers import notify_batch

    return notify_batch(event.to_dict()["Records"])


@app.schedule(Rate(5, unit=Rate.MINUTES), name=names.Function.SUPERVISE.value)
def supervise(event: Any) -> dict[str, Any]:
    """Electronic supervision: deadline warnings, findings, statistics roll-up."""
    from chalicelib.consumers import supervise_run

    return supervise_run()


@app.schedule(Rate(1, unit=Rate.MINUTES), name=names.Function.SWEEP.value)
def sweep_outbox(event: Any) -> dict[str, int]:
    """Re-queue applications stored but not known to be queued (crash between two steps)."""
    from chalicelib.consumers import sweep_run

    return sweep_run()


