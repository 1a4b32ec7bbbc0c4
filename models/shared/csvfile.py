"""The ``;``-separated files operators bring in: the CMI database's extract and the
factory's statuses.

A record is one physical line. Whatever a line holds, it is accounted for: the
header, a row read, or a row refused with its line number and the reason (a
quote left open, too many or too few columns, a line far longer than any real
row). A quote never swallows the lines after it, and no field can grow past the
bound of one line. A file that cannot be read at all (its encoding, its header)
is refused whole, with a message saying why.

The reasons are in French (the agents who fix the extract read them); a file
refused whole is told to the operator, in English, like the commands' other
messages.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

ENCODINGS = {"utf-8": "utf-8-sig", "windows-1252": "cp1252"}
# A real row of the extract is a few hundred characters: one of this length is not a row.
MAX_LINE = 4000
# The characters no field may hold: C0 and C1 controls (NUL included), and the invisible
# ones that change how text is shown without being text (zero-width spaces and joiners,
# right-to-left overrides and isolates, a byte order mark inside a field, soft hyphens).
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
_CANDIDATES = re.compile(r"[^\x20-\x7e]")


class BadFile(ValueError):
    """A file that cannot be read at all (encoding, header)."""


class BadRow(ValueError):
    """A row refused; the message is the reason given in the report."""


def refused_character(value: str) -> str | None:
    """The first character of ``value`` no field may hold, as « U+200B », or None."""
    for match in _CANDIDATES.finditer(value):
        if unicodedata.category(match.group()) in _INVISIBLE_CATEGORIES:
            return f"U+{ord(match.group()):04X}"
    return None


def checked(column: str, value: str) -> str:
    """A field's text, stripped; refused if it holds a control or invisible character."""
    value = value.strip()
    found = refused_character(value)
    if found:
        raise BadRow(f"{column} : caractère de contrôle ou invisible ({found})")
    return value


def decode(data: bytes, encoding: str = "utf-8") -> str:
    """The file's text; UTF-8 may start with a byte order mark."""
    try:
        return data.decode(ENCODINGS[encoding])
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise BadFile(
            f"line {line} is not {encoding}: is the file in "
            f"{'windows-1252' if encoding == 'utf-8' else 'utf-8'}? (--encoding)"
        ) from None


@dataclass(frozen=True)
class Line:
    """One physical line after the header: its values by column, or why it was refused."""

    number: int  # as an editor shows it: the header is line 1
    values: dict[str, str] | None
    refused: str | None = None


def _fields(text: str) -> list[str]:
    """One line's fields; a quote left open is an error, not the start of a long field."""
    return next(csv.reader([text], delimiter=";", strict=True))


def physical_lines(text: str) -> list[str]:
    """The file's lines as an editor counts them: a final line break ends the last line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_lines(text: str, columns: tuple[str, ...]) -> tuple[list[str], Iterator[Line]]:
    """The header's columns, and every line after it, each read or refused.

    ``BadFile`` when the header is missing, unreadable, names a column twice or
    lacks one of ``columns``; the other columns it names are read, and ignored by
    the callers."""
    lines = physical_lines(text)
    if not lines or not lines[0].strip():
        raise BadFile("the file is empty, or its first line (the header) is")
    if len(lines[0]) > MAX_LINE:
        raise BadFile(f"line 1 (the header) is longer than {MAX_LINE} characters")
    try:
        header = [name.strip() for name in _fields(lines[0])]
    except csv.Error:
        raise BadFile("line 1 (the header) cannot be read: a quote is left open") from None
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise BadFile(f"columns named twice in the header: {', '.join(twice)}")
    missing = [name for name in columns if name not in header]
    if missing:
        raise BadFile(f"missing columns: {', '.join(missing)}")
    return header, _rows(lines, header)


def _rows(lines: list[str], header: list[str]) -> Iterator[Line]:
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip():
            yield Line(number, None, "ligne vide")
            continue
        if len(text) > MAX_LINE:
            yield Line(
                number, None, f"ligne de {len(text)} caractères : une ligne en a au plus {MAX_LINE}"
            )
            continue
        try:
            fields = _fields(text)
        except csv.Error:
            why = (
                "caractère de contrôle ou invisible (U+000D) au milieu de la ligne"
                if "\r" in text
                else "guillemet non refermé ou mal placé"
            )
            yield Line(number, None, why)
            continue
        if len(fields) != len(header):
            yield Line(number, None, f"{len(fields)} colonnes, {len(header)} attendues")
            continue
        yield Line(number, dict(zip(header, fields, strict=True)))
