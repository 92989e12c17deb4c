"""The notify step: tells applicants and officers what happened, once per event and channel.

An event (``{"event", "receipt", "event_id", "reason"?, "detail"?, "department"?}``, sent by
verification, the workflow and supervision) is fanned out to its deliveries:

* applicant events: the applicant's inbox always; SMS and email for the events worth a push
  (``PUSH_EVENTS``) when the application chose them (``contact.channels``) and gave the
  number or address; the signed webhook (every event) when it gave ``contact.webhook_url``;
* officer events (``OFFICER_EVENTS``): the department's shared inbox and an email to every
  enrolled officer of the department who has an address; red warnings also reach the
  supervisors' inbox.

Exactly-once effect: each delivery is claimed under (event id, channel) with a conditional
write (``store/deliveries.py``), so a redelivered event sends nothing twice. A failing channel
does not hold back the others or other events: it is re-queued alone, as a ``notify.retry``
message delayed by ``RETRY_DELAYS`` (backoff); when its budget (``ATTEMPTS``) is spent it goes
to the notify dead-letter queue (alarmed) and the failure is recorded. Every outcome is
recorded on the case timeline as a ``NOTIFIED`` record (public for the applicant's channels):
the channel, ``sent`` (accepted by SNS/SES), ``delivered`` (stored in the inbox, acknowledged
by the webhook receiver) or ``failed``, at the time it happened — proof of when the applicant
was told. Identity numbers and phone numbers never appear in it, nor in any log line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib import email, messages, queues, sms, webhooks
from chalicelib.catalog import department_by_code, service_by_code
from chalicelib.contract import REASON_TEXT_ZH, Reason
from chalicelib.errors import RetryableError
from chalicelib.names import FUNCTION_TIMEOUT, Function, Queue, dlq_name
from chalicelib.settings import Settings
from chalicelib.store import caselog, cases, deliveries, inbox, principals
from chalicelib.store.models import ApplicationModel

log = logging.getLogger(__name__)

RETRY_KIND = "notify.retry"
# Seconds before attempts 2, 3, 4 and 5 of a channel (SQS delays at most 900 s).
RETRY_DELAYS: tuple[int, ...] = (30, 120, 480, 900)
ATTEMPTS = len(RETRY_DELAYS) + 1
# A worker that dies mid-delivery holds the claim this long; then a redelivery takes over.
LEASE = timedelta(seconds=2 * FUNCTION_TIMEOUT[Function.NOTIFY])
CHINA = timezone(timedelta(hours=8))

OFFICER_EVENTS = frozenset({"new_task", "warning_yellow", "warning_red"})
# Worth an SMS or email to the applicant (everything else goes to the inbox and the webhook).
PUSH_EVENTS = frozenset({"received", "accepted", "rejected", "correction_required", "extended",
                         "approved", "denied", "withdrawn"})
ALIASES = {"yellow_warning": "warning_yellow", "red_warning": "warning_red",
           "warning.yellow": "warning_yellow", "warning.red": "warning_red",
           "task_opened": "new_task", "task.new": "new_task"}
DEFAULT_CHANNELS = ("inbox", "sms")

REASON_TEXT_EN: dict[Reason, str] = {
    Reason.MALFORMED: "the application data or its signature is malformed",
    Reason.SIGNATURE_INVALID: "the digital signature does not verify; the content may have "
                              "been altered",
    Reason.CERT_UNTRUSTED: "the signing certificate was not issued by a trusted CA",
    Reason.CERT_EXPIRED: "the signing certificate has expired",
    Reason.CERT_NOT_YET_VALID: "the signing certificate is not valid yet",
    Reason.CERT_REVOKED: "the signing certificate has been revoked",
    Reason.CERT_USAGE: "the signing certificate may not be used for digital signatures",
    Reason.REVOCATION_UNKNOWN: "the revocation status of the signing certificate could not be "
                               "confirmed",
    Reason.IDENTITY_MISMATCH: "the applicant's identity does not match the signing certificate",
    Reason.ATTACHMENT_MISMATCH: "the attachments differ from those that were signed",
}

# Failures that no retry can cure: the address itself is unusable.
_PERMANENT = (sms.InvalidPhone, email.InvalidAddress, webhooks.InvalidWebhook)


class DeliveryBusy(RetryableError):
    """Another worker holds a delivery of this event; the message comes back later."""


@dataclass(frozen=True)
class Event:
    """A notification event as received."""

    name: str
    receipt: str
    event_id: str
    reason: str | None
    detail: dict[str, Any]
    department: str | None
    raw: dict[str, Any] = field(repr=False)

    @property
    def audience(self) -> str:
        """``department`` for officers' events, else ``applicant``."""
        return "department" if self.name in OFFICER_EVENTS else "applicant"


@dataclass(frozen=True)
class Delivery:
    """One channel of one event: where it goes (never logged) and how it is labelled."""

    channel: str  # claim and timeline label: inbox, sms, email, webhook, email:<principal>…
    kind: str  # inbox | sms | email | webhook
    address: str  # inbox recipient, phone number, email address or URL
    lang: str = "zh"

    def masked(self) -> str:
        """The address as the case file may show it."""
        if self.kind == "sms":
            return sms.mask(self.address)
        if self.kind == "email":
            return email.mask(self.address)
        if self.kind == "webhook":
            return self.address.split("?", 1)[0][:200]
        return self.address if self.address.startswith(("dept#", "role#")) else "applicant"


def parse(message: dict[str, Any]) -> Event | None:
    """The event of a queue message, or None when it is not one (it is dead-lettered)."""
    name, receipt, event_id = (message.get(k) for k in ("event", "receipt", "event_id"))
    if not all(isinstance(v, str) and v for v in (name, receipt, event_id)):
        return None
    assert isinstance(name, str) and isinstance(receipt, str) and isinstance(event_id, str)
    detail = message.get("detail") if isinstance(message.get("detail"), dict) else {}
    assert isinstance(detail, dict)
    department = message.get("department") or detail.get("department")
    reason = message.get("reason")
    return Event(ALIASES.get(name, name), receipt, event_id,
                 reason if isinstance(reason, str) else None, dict(detail),
                 department if isinstance(department, str) else None, message)


def handle(settings: Settings, message: dict[str, Any], now: datetime, message_id: str) -> None:
    """Deliver one queue message: an event (fan out) or one channel's retry."""
    if message.get("kind") == RETRY_KIND:
        _retry(settings, message, now)
        return
    event = parse(message)
    if event is None or event.name not in messages.events():
        _dead_letter(settings, message, "UNKNOWN_EVENT" if event else "MALFORMED_EVENT")
        return
    if event.audience == "department" and not event.department:
        _dead_letter(settings, message, "NO_DEPARTMENT")  # whom to tell is not knowable
        return
    seen = deliveries.first_seen(event.event_id, message, now)
    application = _application(event)
    prepared = prepare(settings, event, application, seen)
    busy = []
    for delivery in plan(event, application):
        if not _attempt(settings, event, application, prepared, delivery, 1, seen, now):
            busy.append(delivery.channel)
    log.info("notification event handled", extra={"event_id": event.event_id,
                                                  "message_id": message_id, "busy": busy})
    if busy:
        raise DeliveryBusy(f"{event.event_id}: {', '.join(busy)} in progress elsewhere")


def _retry(settings: Settings, message: dict[str, Any], now: datetime) -> None:
    event = parse(message.get("event") or {})
    if event is None or event.name not in messages.events():
        _dead_letter(settings, message, "MALFORMED_RETRY")
        return
    seen = datetime.fromisoformat(str(message["first_seen"]))
    application = _application(event)
    wanted = str(message.get("channel"))
    found = next((d for d in plan(event, application) if d.channel == wanted), None)
    if found is None:  # the channel is no longer wanted (contact changed): nothing to send
        return
    prepared = prepare(settings, event, application, seen)
    if not _attempt(settings, event, application, prepared, found, int(message["attempt"]),
                    seen, now):
        raise DeliveryBusy(f"{event.event_id}: {wanted} in progress elsewhere")


def _application(event: Event) -> ApplicationModel:
    application = cases.find(event.receipt)
    if application is None:
        # Events are sent after the case is stored: a missing case is a bug, worth the DLQ.
        raise LookupError("notification for an unknown receipt")
    return application


def _plain(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    return dict(value.as_dict())


def plan(event: Event, application: ApplicationModel) -> list[Delivery]:
    """Every delivery of ``event``, from the application's preferences or the registry."""
    if event.audience == "department":
        code = event.department or ""
        found = [Delivery("inbox", "inbox", inbox.department_recipient(code))]
        found += [Delivery(f"email:{o.principal}", "email", o.email)
                  for o in principals.officers_of(code) if o.email] if code else []
        if event.name == "warning_red":
            found.append(Delivery("inbox:supervisor", "inbox", inbox.role_recipient("supervisor")))
        return found
    contact = _plain(application.contact)
    channels = set(contact.get("channels") or DEFAULT_CHANNELS)
    lang = "en" if str(contact.get("lang", "")).lower().startswith("en") else "zh"
    found = [Delivery("inbox", "inbox", application.applicant_key, lang)]
    if event.name in PUSH_EVENTS:
        if "sms" in channels and contact.get("phone"):
            found.append(Delivery("sms", "sms", str(contact["phone"]), lang))
        if "email" in channels and contact.get("email"):
            found.append(Delivery("email", "email", str(contact["email"]), lang))
    if "webhook" in channels and contact.get("webhook_url"):
        found.append(Delivery("webhook", "webhook", str(contact["webhook_url"]), lang))
    return found


def context(settings: Settings, event: Event, application: ApplicationModel,
            seen: datetime) -> dict[str, Any]:
    """What the templates may use (no identity number but the masked one)."""
    from chalicelib.licence import licence_id

    base = settings.public_base_url
    receipt = application.receipt
    department_code = event.department or _denial_department(application)
    department = department_by_code(department_code) if department_code else None
    stage = event.detail.get("stage", application.current_stage)
    reason = Reason(event.reason) if event.reason in Reason.__members__ else None
    return {
        "event": event.name,
        "event_id": event.event_id,
        "receipt": receipt,
        "audience": event.audience,
        "service_code": application.service_code,
        "service_name": _service_name(application),
        "status": application.status,
        "applicant_masked": application.applicant_masked,
        "reason": event.reason,
        "reason_text_zh": REASON_TEXT_ZH[reason] if reason else "",
        "reason_text_en": REASON_TEXT_EN[reason] if reason else "",
        "detail": event.detail,
        "department": department_code,
        "department_name_zh": department.name if department else "",
        "department_name_en": getattr(department, "name_en", "") if department else "",
        "at_local": seen.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
        "links": {
            "track": f"{base}/track/{receipt}",
            "me": f"{base}/me/applications/{receipt}",
            "licence": f"{base}/licences/{licence_id(receipt)}",
            "task": (f"{base}/departments/{department_code}/tasks/{receipt}/{int(stage)}"
                     if department_code else f"{base}/me/inbox"),
        },
    }


@dataclass(frozen=True)
class Prepared:
    """An event's rendered texts and the links its messages carry."""

    rendered: messages.Rendered
    links: dict[str, str]


def prepare(settings: Settings, event: Event, application: ApplicationModel,
            seen: datetime) -> Prepared:
    """Render the event's message once for all its deliveries."""
    ctx = context(settings, event, application, seen)
    links: dict[str, str] = ctx["links"]
    if event.audience == "department":
        keep = {"task"}
    else:
        keep = {"track", "me"} | ({"licence"} if event.name in ("approved", "licence_issued")
                                  else set())
    return Prepared(messages.render(event.name, ctx),
                    {k: v for k, v in links.items() if k in keep})


def _denial_department(application: ApplicationModel) -> str | None:
    denial = application.denial if isinstance(application.denial, dict) else None
    department = denial.get("department") if denial else None
    return str(department) if department else None


def _service_name(application: ApplicationModel) -> str:
    from chalicelib.store import catalog

    try:
        item = catalog.bound(application.service_code, int(application.service_version))
    except Exception:  # the catalog table is a nicety here: the packaged data will do
        log.warning("catalog unavailable for a notification", exc_info=True)
        item = None
    if item and item.get("name"):
        return str(item["name"])
    packaged = service_by_code(application.service_code)
    return packaged.name if packaged else application.service_code


# ---------------------------------------------------------------------------- one delivery


def _attempt(settings: Settings, event: Event, application: ApplicationModel,
             prepared: Prepared, delivery: Delivery, attempt: int, seen: datetime,
             now: datetime) -> bool:
    """Try one delivery once; False when another worker holds it right now."""
    key = deliveries.delivery_key(event.event_id, delivery.channel)
    claim = deliveries.acquire(key, attempt, now, LEASE)
    if not claim.acquired:
        if claim.state == deliveries.SENT:  # sent, but the case file was not written yet
            _record(event, delivery, claim.data, now)
            deliveries.mark_completed(key, now, claim.data)
            return True
        return claim.state != deliveries.INPROGRESS
    try:
        outcome = _send(settings, event, application, prepared, delivery, seen, now)
    except Exception as exc:  # any failure of one channel stays with that channel
        _failed(settings, event, delivery, attempt, exc, seen, now)
        return True
    outcome.update({"attempts": attempt, "at": now.isoformat()})
    deliveries.mark_sent(key, now, outcome)
    _record(event, delivery, outcome, now)
    deliveries.mark_completed(key, now, outcome)
    return True


def _send(settings: Settings, event: Event, application: ApplicationModel,
          prepared: Prepared, delivery: Delivery, seen: datetime,
          now: datetime) -> dict[str, Any]:
    """Hand the message to its channel; returns what the case file records."""
    rendered = prepared.rendered
    if delivery.kind == "inbox":
        inbox.put(delivery.address, seen, event.event_id, {
            "event": event.name, "event_id": event.event_id, "receipt": event.receipt,
            "at": seen.isoformat(), "title": rendered.title_zh, "text": rendered.text_zh,
            "title_en": rendered.title_en, "text_en": rendered.text_en,
            "links": prepared.links})
        return {"status": "delivered"}
    if delivery.kind == "sms":
        return {"status": "sent", "provider_id": sms.send(delivery.address,
                                                          rendered.sms(delivery.lang))}
    if delivery.kind == "email":
        return {"status": "sent", "provider_id": email.send(settings, delivery.address,
                                                            rendered.subject, rendered.body)}
    if delivery.kind == "webhook":
        body = {"event": event.name, "event_id": event.event_id, "receipt": event.receipt,
                "status": application.status, "reason": event.reason, "detail": event.detail,
                "occurred_at": seen.isoformat(), "title": rendered.title_zh,
                "text": rendered.text_zh, "title_en": rendered.title_en,
                "text_en": rendered.text_en, "links": prepared.links}
        code = webhooks.deliver(delivery.address,
                                webhooks.secret_for(settings, application.applicant_key),
                                event.event_id, body, now,
                                allow_private=settings.stage == "local")
        return {"status": "delivered", "http_status": code}
    raise ValueError(f"unknown channel kind {delivery.kind}")


def _failed(settings: Settings, event: Event, delivery: Delivery, attempt: int,
            exc: Exception, seen: datetime, now: datetime) -> None:
    """Schedule the next attempt, or give up: dead-letter queue and a ``failed`` record."""
    key = deliveries.delivery_key(event.event_id, delivery.channel)
    # The class and the AWS error code only: provider messages may quote the phone number.
    error = type(exc).__name__
    aws_code = getattr(exc, "response", {}).get("Error", {}).get("Code") \
        if hasattr(exc, "response") else None
    if aws_code:
        error += f":{aws_code}"
    permanent = isinstance(exc, _PERMANENT)
    log.warning("notification channel failed", extra={
        "event_id": event.event_id, "channel": delivery.channel, "attempt": attempt,
        "error": error, "permanent": permanent})
    if not permanent and attempt < ATTEMPTS:
        delay = RETRY_DELAYS[attempt - 1]
        # Queue first, then record: a crash in between leaves the claim INPROGRESS, which the
        # retry takes over once the lease has run out, rather than a RETRY nobody will act on.
        send_later(settings, {"kind": RETRY_KIND, "channel": delivery.channel,
                              "attempt": attempt + 1, "first_seen": seen.isoformat(),
                              "event": event.raw}, delay)
        deliveries.mark_retry(key, now, {"attempts": attempt, "error": error,
                                         "next_at": (now + timedelta(seconds=delay)).isoformat()})
        return
    _dead_letter(settings, {"kind": RETRY_KIND, "channel": delivery.channel, "attempt": attempt,
                            "first_seen": seen.isoformat(), "event": event.raw}, error)
    outcome = {"status": "failed", "attempts": attempt, "error": error, "at": now.isoformat()}
    _record(event, delivery, outcome, now)
    deliveries.mark_failed(key, now, outcome)


def _record(event: Event, delivery: Delivery, outcome: dict[str, Any], now: datetime) -> None:
    """The delivery receipt on the case timeline, once per (event, channel)."""
    for record in caselog.records(event.receipt):
        data = record.data or {}
        if record.kind == "NOTIFIED" and data.get("event_id") == event.event_id \
                and data.get("channel") == delivery.channel:
            return
    at = datetime.fromisoformat(str(outcome["at"])) if outcome.get("at") else now
    caselog.append(event.receipt, "NOTIFIED", actor="notify", at=at,
                   public=event.audience == "applicant",
                   data={"event": event.name, "event_id": event.event_id,
                         "channel": delivery.channel, "status": outcome["status"],
                         "attempts": int(outcome.get("attempts", 1)),
                         "to": delivery.masked(),
                         **({"provider_id": outcome["provider_id"]}
                            if outcome.get("provider_id") else {}),
                         **({"error": outcome["error"]} if outcome.get("error") else {})})


def send_later(settings: Settings, body: dict[str, Any], delay_seconds: int) -> None:
    """Queue a message on the notify queue that becomes visible after ``delay_seconds``."""
    queues.send(settings.queue(Queue.NOTIFY), body, delay_seconds=delay_seconds)


def _dead_letter(settings: Settings, message: dict[str, Any], why: str) -> None:
    """Put a message the notify step gives up on where operators look (alarmed)."""
    queues.send(dlq_name(settings.queue(Queue.NOTIFY)), {**message, "dead_letter_reason": why})
    log.error("notification dead-lettered", extra={"why": why,
                                                   "event_id": message.get("event_id")})
