"""A PDF rendering of an electronic licence, written directly (no PDF library, no font file).

The text is set in STSong-Light, one of the Adobe CJK fonts every conforming PDF reader
provides for Simplified Chinese without embedding, addressed through the ``UniGB-UTF16-H``
CMap; strings are UTF-16BE. The output is deterministic for a given licence (no timestamps,
fixed object order), so rendering the same licence twice gives the same bytes and the same
signature digest.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

PAGE_WIDTH = 595  # A4 in points
PAGE_HEIGHT = 842
MARGIN = 56


@dataclass(frozen=True)
class Line:
    """One line of text: ``size`` in points, centred or left-aligned at ``indent``."""

    text: str
    size: float = 11
    centre: bool = False
    indent: float = 0
    gap_before: float = 0


def text_width(text: str, size: float) -> float:
    """Width in points: CJK full width, ASCII half width (as the font's /W says)."""
    return sum(0.5 if ord(ch) < 0x80 else 1.0 for ch in text) * size


def wrap(text: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (by character: CJK has no spaces)."""
    lines: list[str] = []
    current = ""
    for ch in text:
        if current and text_width(current + ch, size) > width:
            lines.append(current)
            current = ""
        current += ch
    return [*lines, current] if current or not lines else lines


def _hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def _content(lines: Sequence[Line]) -> bytes:
    ops: list[str] = []
    # A double frame, as printed certificates have.
    ops.append("0.6 0.1 0.1 RG 2 w 28 28 539 786 re S 0.5 w 34 34 527 774 re S 0 0 0 RG")
    y: float = PAGE_HEIGHT - MARGIN - 20
    usable = PAGE_WIDTH - 2 * MARGIN
    for line in lines:
        y -= line.gap_before
        for part in wrap(line.text, line.size, usable - line.indent):
            y -= line.size * 1.5
            if line.centre:
                x = (PAGE_WIDTH - text_width(part, line.size)) / 2
            else:
                x = MARGIN + line.indent
            ops.append(f"BT /F1 {line.size:g} Tf {x:.2f} {y:.2f} Td <{_hex(part)}> Tj ET")
    return "\n".join(ops).encode("ascii")


def render(lines: Sequence[Line], *, title: str = "", subject: str = "") -> bytes:
    """A one-page PDF with ``lines``; the document information carries title and subject."""
    stream = zlib.compress(_content(lines), 9)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
         f"/Resources << /Font << /F1 4 0 R >> >> /Contents 7 0 R >>").encode(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H "
        b"/DescendantFonts [5 0 R] >>",
        # ASCII maps to the proportional (1-95) or half-width (7716-7810) CIDs of Adobe-GB1.
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "
        b"/FontDescriptor 6 0 R /DW 1000 /W [1 95 500 7716 7810 500] >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
        b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
        b"/CapHeight 626 /StemV 93 >>",
        b"<< /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n"
        + stream + b"\nendstream",
        (f"<< /Title <FEFF{_hex(title)}> /Subject <FEFF{_hex(subject)}> "
         f"/Producer (onestop) >>").encode(),
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)
