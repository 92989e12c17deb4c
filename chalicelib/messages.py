"""Notification texts: one Jinja2 template per event (``chalicelib/templates/<event>.j2``).

zh-CN first, English as the fallback: every template writes both; SMS goes out in the
recipient's language (Chinese unless the application asked for English), email carries the
Chinese text followed by the English, the inbox keeps both. Every message names the receipt
and carries the tracking link (the task link for officers); identity numbers appear only
masked. Pure: no AWS, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"
_PARTS = ("title_zh", "title_en", "text_zh", "text_en", "sms_zh", "sms_en", "subject_zh",
          "body")
_MARKER = re.compile(r"^@@(\w+)$", re.MULTILINE)


class UnknownEvent(LookupError):
    """No template for this event."""


@dataclass(frozen=True)
class Rendered:
    """Every part of one event's message."""

    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    sms_zh: str
    sms_en: str
    subject: str
    body: str

    def title(self, lang: str = "zh") -> str:
        """The title in ``lang``, falling back to Chinese."""
        return (self.title_en if lang == "en" else "") or self.title_zh

    def text(self, lang: str = "zh") -> str:
        """The text in ``lang``, falling back to Chinese."""
        return (self.text_en if lang == "en" else "") or self.text_zh

    def sms(self, lang: str = "zh") -> str:
        """The SMS in ``lang``, falling back to Chinese."""
        return (self.sms_en if lang == "en" else "") or self.sms_zh


@cache
def environment() -> jinja2.Environment:
    """The template environment (text, not HTML: nothing is escaped; undefined names fail)."""
    # Plain text for SMS, email and the inbox, never HTML: escaping would garble it.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
        autoescape=False, keep_trailing_newline=False, trim_blocks=False)  # noqa: S701


def events() -> frozenset[str]:
    """Every event that has a template."""
    return frozenset(p.stem for p in TEMPLATES.glob("*.j2") if not p.stem.startswith("_"))


def render(event: str, context: dict[str, Any]) -> Rendered:
    """Render every part of ``event``'s message."""
    if event not in events():
        raise UnknownEvent(event)
    output = environment().get_template(f"{event}.j2").render(**context)
    parts: dict[str, str] = {}
    pieces = _MARKER.split(output)
    for name, text in zip(pieces[1::2], pieces[2::2], strict=True):
        parts[name] = _tidy(text)
    missing = set(_PARTS) - set(parts)
    if missing:
        raise ValueError(f"template {event} lacks {sorted(missing)}")
    return Rendered(parts["title_zh"], parts["title_en"], parts["text_zh"], parts["text_en"],
                    parts["sms_zh"], parts["sms_en"], parts["subject_zh"], parts["body"])


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    return "\n".join(lines).strip()
