"""Email through SES, the one module that sends it (plain text, UTF-8)."""

from __future__ import annotations

import re

from chalicelib.clients import client
from chalicelib.names import email_sender
from chalicelib.settings import Settings

_ADDRESS = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


class InvalidAddress(ValueError):
    """Not an address email can go to."""


def check(address: str) -> str:
    """The address, if it looks deliverable (SES rejects the rest anyway, more slowly)."""
    if not _ADDRESS.match(address.strip()):
        raise InvalidAddress("not an email address")
    return address.strip()


def mask(address: str) -> str:
    """An address as it may appear in a case file (``z***@example.cn``)."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def send(settings: Settings, to: str, subject: str, body: str) -> str:
    """Send one message from the stage's sender; returns SES's message id."""
    response = client("ses").send_email(
        Source=email_sender(settings.stage),
        Destination={"ToAddresses": [check(to)]},
        Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                 "Body": {"Text": {"Data": body, "Charset": "UTF-8"}}})
    return str(response["MessageId"])


def verify_sender(settings: Settings) -> None:
    """Register the stage's sender with SES (the local stack and tests; in the cloud the
    domain is verified once by the operator, with DKIM)."""
    client("ses").verify_email_identity(EmailAddress=email_sender(settings.stage))
