"""The ways of writing dates a user may name (:data:`DATE_FORMATS`); ISO is always accepted.

A named format is never guessed: when a column's dates fit none of the formats allowed, the
rejection says which format its first unreadable values look like (:func:`look_alike`), and the
user names it.  A two-digit year (``1/5/15``, ``05.01.15``, ``15-01-05``) fits no format: its
century is a guess, so it is rejected with that reason (:data:`TWO_DIGIT_YEAR`).

========================  ==========================  ==================================
format                    example                     read as
========================  ==========================  ==================================
``DD.MM.YYYY``            ``07.03.2025 14:05``        7 March 2025, 14:05
``DD/MM/YYYY``            ``07/03/2025``              7 March 2025
``M/D/YYYY``              ``3/7/2025 14:05:09``       7 March 2025, 14:05:09
``M/D/YYYY h:mm AM/PM``   ``01/05/2015 12:40:41 PM``  5 January 2015, 12:40:41
``DD/MM/YYYY h:mm AM/PM`` ``05/01/2015 9:03 am``      5 January 2015, 09:03
========================  ==========================  ==================================

The first three take an optional 24-hour time (``H:MM`` or ``H:MM:SS``).  The AM/PM formats
need a 12-hour time: hour 1–12, optional seconds, one space, then ``AM`` or ``PM`` in any case;
12 AM is 00 h and 12 PM is 12 h, hour 0 or 13 and above is not a time of this clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class DateFormat:
    """A non-ISO way of writing dates: a strict pattern and the ``strptime`` formats it allows."""

    pattern: str
    formats: tuple[str, ...]


_TIME_24 = r"( \d{1,2}:\d{2}(:\d{2})?)?"
_TIME_12 = r" \d{1,2}:\d{2}(:\d{2})? [AaPp][Mm]"


def _day_first(sep: str) -> DateFormat:
    esc = "\\" + sep
    return DateFormat(
        pattern=rf"\d{{1,2}}{esc}\d{{1,2}}{esc}\d{{4}}{_TIME_24}",
        formats=tuple(f"%d{sep}%m{sep}%Y{t}" for t in ("", " %H:%M", " %H:%M:%S")),
    )


def _twelve_hour(date: str) -> DateFormat:
    """``date`` (a strptime date of ``/``-separated numbers) with a 12-hour time and AM/PM.

    DuckDB's ``%I`` takes hours 1–12 only and ``%p`` AM/PM in any case, so ``13:00 PM`` and
    ``0:30 AM`` are unreadable, as they should be.
    """
    return DateFormat(
        pattern=rf"\d{{1,2}}/\d{{1,2}}/\d{{4}}{_TIME_12}",
        formats=(f"{date} %I:%M %p", f"{date} %I:%M:%S %p"),
    )


DATE_FORMATS: dict[str, DateFormat | None] = {
    "ISO": None,
    "DD.MM.YYYY": _day_first("."),
    "DD/MM/YYYY": _day_first("/"),
    "M/D/YYYY": DateFormat(
        pattern=rf"\d{{1,2}}/\d{{1,2}}/\d{{4}}{_TIME_24}",
        formats=("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S"),
    ),
    "M/D/YYYY h:mm AM/PM": _twelve_hour("%m/%d/%Y"),
    "DD/MM/YYYY h:mm AM/PM": _twelve_hour("%d/%m/%Y"),
}
"""How dates may be written. ISO is always accepted; the others only when the user names them."""

ISO_NAIVE = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
_ISO_TIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
ISO_ZONED = _ISO_TIME + r"(Z|[+-](0\d|1[0-4])(:?[0-5]\d)?)"
"""A zoned timestamp: ``Z`` or a UTC offset ``±HH:MM`` (also ``±HHMM`` and ``±HH``, ISO 8601's
other forms) with HH at most 14 (the largest offset in use, Kiribati's) and MM at most 59."""
OFFSET_OUT_OF_RANGE = _ISO_TIME + r"[+-]((1[5-9]|[2-9]\d)(:?\d{2})?|\d{2}:?[6-9]\d)"
"""An offset of the same shape with HH above 14 or MM above 59 (``+99:99``, ``+24:00``,
``-9999``, ``+00:60``): DuckDB would read it and move the row by up to four days."""

TWO_DIGIT_YEAR = (
    r"(\d{1,2}/\d{1,2}/\d{2}|\d{1,2}\.\d{1,2}\.\d{2}|\d{1,2}-\d{1,2}-\d{2})"
    r"([T ]\d{1,2}:\d{2}(:\d{2})?( ?[AaPp][Mm])?)?"
)
"""Three numbers of one or two digits, the last or (``15-01-05``) the first of them a year
written with two digits, and an optional time: which century is meant is a guess."""


# --- which format unreadable values look like ------------------------------------------------

_READ = (
    "SELECT CASE WHEN regexp_full_match(v, $pattern) THEN try_strptime(v, $formats) END "
    "FROM unnest(CAST($values AS VARCHAR[])) WITH ORDINALITY AS t(v, i) ORDER BY i"
)


def _read(con: duckdb.DuckDBPyConnection, name: str, values: list[str]) -> list[dt.datetime | None]:
    """Each of ``values`` read by format ``name`` exactly as a load reads it (None: unreadable)."""
    form = DATE_FORMATS[name]
    assert form is not None
    params = {"pattern": form.pattern, "formats": list(form.formats), "values": values}
    return [v for (v,) in con.execute(_READ, params).fetchall()]


def _day(value: dt.datetime) -> str:
    return f"{value.day} {value:%B %Y}"


def choose_format_text(name: str) -> str:
    """How to name format ``name``: the command line's flag and the upload page's choice."""
    return f"add --date-format '{name}' (on the upload page: Date format {name})"


def look_alike(con: duckdb.DuckDBPyConnection, values: list[str]) -> str | None:
    """Which of :data:`DATE_FORMATS` unreadable date texts ``values`` look like, as a hint for
    the rejection; None when no format reads any of them.

    Every named format is tried on every value exactly as a load would read it; the formats
    reading the most values are named.  Two of them reading the same values (``01/05/2015``
    fits M/D/YYYY and DD/MM/YYYY) are both named, with what each makes of the first such value:
    only a day above 12 tells them apart, so the user decides, never the loader.
    """
    if not values:
        return None
    read = {n: _read(con, n, values) for n, f in DATE_FORMATS.items() if f is not None}
    counts = {n: sum(v is not None for v in readings) for n, readings in read.items()}
    best = max(counts.values())
    if best == 0:
        return None
    fitting = [n for n, c in counts.items() if c == best]
    share = "these" if best == len(values) else f"{best:,} of the first {len(values):,}"
    if len(fitting) == 1:
        return f"{share} look like {fitting[0]}: {choose_format_text(fitting[0])}"
    told = ""
    for i, value in enumerate(values):
        readings = [read[n][i] for n in fitting]
        if all(readings) and len(set(readings)) > 1:
            told = (
                f" ({value} is "
                + ", ".join(f"{_day(r)} as {n}" for n, r in zip(fitting, readings, strict=True))
                + ")"
            )
            break
    alternatives = " or ".join(f"--date-format '{n}'" for n in fitting)
    return (
        f"{share} could be {' or '.join(fitting)}{told}, and no day above 12 tells which: "
        f"check how the file was exported, then add {alternatives} "
        "(on the upload page: Date format)"
    )
