"""Small PDF documents with real text: the terms and the attestation.

pypdf writes the file; this module lays out the text (standard Helvetica,
WinAnsi encoding, so every character extracts back exactly) on A4 pages.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field

from pypdf import PdfWriter
from pypdf.generic import (
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    TextStringObject,
)
from pypdf.generic._font import Font

A4_WIDTH, A4_HEIGHT = 595.28, 841.89
MARGIN = 62.0
FONTS = {"regular": "/Helvetica", "bold": "/Helvetica-Bold"}
RESOURCE_NAMES = {"regular": "/F1", "bold": "/F2"}
_METRICS = {style: Font.from_core_font_name(name) for style, name in FONTS.items()}

# Characters WinAnsi lacks, replaced by their nearest equivalent.
_REPLACEMENTS = {"\u202f": "\u00a0", "\u2009": " ", "\u2011": "-", "\u2212": "-"}
# Letters with no accent to take off (see ``_nearest`` for the others).
_REPLACEMENTS |= {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Ħ": "H", "ħ": "h"}


def _fits(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _nearest(char: str) -> str:
    """A character WinAnsi lacks: its letter without the accent, or « ? »."""
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return base if base and _fits(base) else "?"


def winansi(text: str) -> str:
    """``text`` as the standard fonts can show it (« Ștefan » becomes « Stefan »)."""
    for char, replacement in _REPLACEMENTS.items():
        text = text.replace(char, replacement)
    if _fits(text):
        return text
    return "".join(char if _fits(char) else _nearest(char) for char in text)


def _encode(text: str) -> bytes:
    raw = winansi(text).encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_width(text: str, style: str, size: float) -> float:
    return _METRICS[style].get_text_width(winansi(text)) * size / 1000


def wrap(text: str, style: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, style, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return lines


@dataclass
class Block:
    """A paragraph of the document; ``box`` draws a check box before it (ticked or not)."""

    text: str
    style: str = "regular"
    size: float = 11
    align: str = "left"  # left, right or center
    space_before: float = 6
    box: bool | None = None
    keep_with_next: bool = False  # a heading never ends a page
    new_page: bool = False  # starts a page (a letter per page)
    top: float | None = None  # placed this far from the top of the page (points)
    left: float | None = None  # and from its left edge (an address in an envelope's window)


@dataclass
class _Page:
    operations: list[bytes] = field(default_factory=list)


def build_pdf(title: str, blocks: list[Block], author: str) -> bytes:
    pages: list[_Page] = [_Page()]
    y = A4_HEIGHT - MARGIN
    for block in blocks:
        if block.new_page and pages[-1].operations:
            pages.append(_Page())
            y = A4_HEIGHT - MARGIN
        if block.top is not None:
            y = A4_HEIGHT - block.top + block.space_before
        left = MARGIN if block.left is None else block.left
        usable = A4_WIDTH - MARGIN - left
        leading = block.size * 1.35
        indent = 22.0 if block.box is not None else 0.0
        lines = wrap(block.text, block.style, block.size, usable - indent)
        y -= block.space_before
        needed = leading * (len(lines) + (3 if block.keep_with_next else 0))
        if y - needed < MARGIN:
            pages.append(_Page())
            y = A4_HEIGHT - MARGIN
        page = pages[-1]
        if block.box is not None:
            bottom = y - leading - 2
            page.operations.append(f"0.8 w {MARGIN:.2f} {bottom:.2f} 12 12 re S".encode())
            if block.box:
                page.operations.append(
                    f"BT /F2 10 Tf {MARGIN + 2.6:.2f} {bottom + 2.6:.2f} Td (X) Tj ET".encode()
                )
        for line in lines:
            y -= leading
            width = text_width(line, block.style, block.size)
            if block.align == "right":
                x = A4_WIDTH - MARGIN - width
            elif block.align == "center":
                x = (A4_WIDTH - width) / 2
            else:
                x = left + indent
            page.operations.append(
                f"BT {RESOURCE_NAMES[block.style]} {block.size:g} Tf {x:.2f} {y:.2f} Td (".encode()
                + _encode(line)
                + b") Tj ET"
            )
    return _write(title, pages, author)


def _write(title: str, pages: list[_Page], author: str) -> bytes:
    writer = PdfWriter()
    fonts = DictionaryObject()
    for style, name in FONTS.items():
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject(name),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
        fonts[NameObject(RESOURCE_NAMES[style])] = writer._add_object(font)
    for page_ops in pages:
        page = writer.add_blank_page(A4_WIDTH, A4_HEIGHT)
        stream = DecodedStreamObject()
        stream.set_data(b"\n".join(page_ops.operations))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    writer.add_metadata({"/Title": title, "/Author": author, "/Creator": author})
    writer.root_object[NameObject("/Lang")] = TextStringObject("fr-FR")
    writer.create_viewer_preferences()
    writer.viewer_preferences.display_doctitle = True
    writer.compress_identical_objects()
    for page in writer.pages:
        page.compress_content_streams()
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def size_label(size: int) -> str:
    """« PDF, 3 Ko »: what a link to a file of ``size`` bytes says about it."""
    kilobytes = max(1, round(size / 1024))
    return f"PDF, {kilobytes} Ko"
