"""The ways of writing dates a user may name (:data:`DATE_FORMATS`); ISO is always accepted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DateFormat:
    """A non-ISO way of writing dates: a strict pattern and the ``strptime`` formats it allows."""

    pattern: str
    formats: tuple[str, ...]


def _day_first(sep: str) -> DateFormat:
    esc = "\\" + sep
    return DateFormat(
        pattern=rf"\d{{1,2}}{esc}\d{{1,2}}{esc}\d{{4}}( \d{{1,2}}:\d{{2}}(:\d{{2}})?)?",
        formats=tuple(f"%d{sep}%m{sep}%Y{t}" for t in ("", " %H:%M", " %H:%M:%S")),
    )


DATE_FORMATS: dict[str, DateFormat | None] = {
    "ISO": None,
    "DD.MM.YYYY": _day_first("."),
    "DD/MM/YYYY": _day_first("/"),
    "M/D/YYYY": DateFormat(
        pattern=r"\d{1,2}/\d{1,2}/\d{4}( \d{1,2}:\d{2}(:\d{2})?)?",
        formats=("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S"),
    ),
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
