"""SMS through SNS (direct publish to a phone number), the one module that sends them."""

from __future__ import annotations

import re

from chalicelib.clients import client

# Mainland mobile numbers (11 digits, 1[3-9]…), with or without +86; anything else is E.164.
_MAINLAND = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_CHARS = 335  # five 67-character UCS-2 segments: more is split unpredictably by carriers


class InvalidPhone(ValueError):
    """Not a number SMS can go to (the reason never includes the number)."""


def e164(phone: str) -> str:
    """The number in E.164 form (``+8613800138000``)."""
    compact = re.sub(r"[\s\-()]", "", phone)
    mainland = _MAINLAND.match(compact)
    if mainland:
        return "+86" + mainland.group(1)
    if _E164.match(compact):
        return compact
    raise InvalidPhone("not a mobile number in E.164 or mainland form")


def mask(phone: str) -> str:
    """A number as it may appear in a case file or a log (``138****8000``)."""
    digits = re.sub(r"\D", "", phone)
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "****"


def send(phone: str, text: str, *, sender_id: str = "ONESTOP") -> str:
    """Send one transactional SMS; returns SNS's message id."""
    response = client("sns").publish(
        PhoneNumber=e164(phone), Message=text[:MAX_CHARS],
        MessageAttributes={
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": sender_id},
        })
    return str(response["MessageId"])
