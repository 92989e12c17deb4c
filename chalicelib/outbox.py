"""The outbox relay: deliver what a committed step owes (see ``chalicelib/store/steps.py``).

A step's transaction stores its messages on the case; right after the commit the step calls
``deliver``, and the sweeper (``sweep_outbox``, every minute) has the route worker call it for
any case whose outbox is older than a minute, should the step's process have died in between.
Delivery is at least once: a crash after a send and before the outbox is cleared sends that
entry again, and every receiver deduplicates on the id the step fixed (the notify step's
per-(event, channel) claims, the statistics' per-event claims, the route step's conditional
moves, ``event_id`` for the departments).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from chalicelib import queues, stats
from chalicelib.names import Queue
from chalicelib.settings import Settings
from chalicelib.store import cases, steps, tasks
from chalicelib.store.models import ApplicationModel

log = logging.getLogger(__name__)

_COUNTERS = {"received": stats.record_received, "accepted": stats.record_accepted,
             "rejected": stats.record_rejected}


def deliver(settings: Settings, receipt: str, *, rounds: int = 5,
            done: frozenset[str] | set[str] = frozenset()) -> int:
    """Deliver every entry a case's outbox owes, then clear it; returns how many went out.

    ``done`` names entries the caller has performed itself (a deciding request's own settle);
    they are cleared without being performed again. An entry whose effect writes a step of its
    own (a settle) appends to the same outbox; the next round here delivers what it added.
    """
    sent = 0
    for _ in range(rounds):
        application = cases.find(receipt)
        if application is None or not application.pending:
            return sent
        entries = steps.pending_entries(application)
        for entry in entries:
            if entry.get("id") not in done:
                _perform(settings, application, entry)
        sent += len(entries)
        if steps.clear_outbox(application, len(entries)):
            return sent
    return sent


def sweep(settings: Settings, now: datetime, *, grace: timedelta = timedelta(minutes=1)) -> int:
    """Hand the outboxes older than ``grace`` (their step's process died) to the route worker.

    The sweeper only finds them and sends ``{"kind": "relay"}``: the route worker, which holds
    the permissions the entries need, delivers them. So the sweeper's own policy is a Query on
    one sparse index and a SendMessage to one queue.
    """
    owing = steps.owing(now - grace)
    for receipt in owing:
        queues.send(settings.queue(Queue.ROUTE), {"kind": "relay", "receipt": receipt})
    if owing:
        log.warning("outbox swept", extra={"count": len(owing)})
    return len(owing)


def _perform(settings: Settings, application: ApplicationModel, entry: dict[str, Any]) -> None:
    kind = entry.get("to")
    if kind == "queue":
        queues.send(entry["queue"], entry["body"])
    elif kind == "count":
        _COUNTERS[entry["event"]](application.receipt, entry["department"],
                                  entry["service_code"], datetime.fromisoformat(entry["at"]))
    elif kind == "finished":
        from chalicelib import supervision, workflow  # they write steps through this module

        supervision.on_case_finished(settings, application, workflow.bound_item(application),
                                     datetime.fromisoformat(entry["at"]))
    elif kind == "dispatched":
        task = tasks.get(application.receipt, entry["task_key"], consistent=True)
        if task is not None and task.dispatched_at is None:
            tasks.mark_dispatched(task, datetime.fromisoformat(entry["at"]))
    elif kind == "settle":
        from chalicelib import workflow

        workflow.settle(settings, application.receipt, datetime.fromisoformat(entry["at"]),
                        actor=entry["actor"])
    elif kind == "cancel_open":
        from chalicelib import workflow

        workflow.cancel_open(settings, application.receipt, datetime.fromisoformat(entry["at"]))
    else:
        raise ValueError(f"unknown outbox entry {kind!r}")
