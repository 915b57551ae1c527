"""The rows behind a number, as people read them (pure: no Streamlit).

What the "Rows behind a number" page (``app_pages/records.py``) says above and around the rows
of :func:`indicators.records.records`: how many rows, how many of them the indicator counted and
what that means, the rate they give; which rows the page shows; the rows with times in the
organisation's zone.

Examples
--------
>>> from indicators.records import SOURCES
>>> summary(SOURCES["csat"], total=40, counted=30, subtracted=None)
"40 rows: the month's csat answers. 30 of them counted — scored 4 or 5 — 75.0 %."
>>> summary(SOURCES["purchases"], total=1630, counted=1630, subtracted=None)
"1,630 rows: the month's purchases."
>>> shown(100, 100, 1630), shown(0, 100, 0)
('Rows 101–200 of 1,630', 'No rows')
"""

from __future__ import annotations

import pandas as pd

from indicators import units
from indicators.records import RecordSource

PAGE_SIZE = 100
"""Rows on one page."""
MAX_DOWNLOAD = 200_000
"""Every row in one CSV up to this many (beyond: the command line, ``records``)."""


def summary(source: RecordSource, *, total: int, counted: int, subtracted: int | None) -> str:
    """The rows in one or two sentences: how many, and for a rate how many counted, what it
    means, and the rate (NPS: promoters less detractors)."""
    rows = f"{total:,} row{'s' if total != 1 else ''}: {source.rows}."
    if not source.is_rate or total == 0:
        return rows
    text = f"{rows} {counted:,} of them counted — {source.counted_means}"
    if subtracted is not None:
        score = 100 * (counted - subtracted) / total
        return text + f"; {subtracted:,} detractors (0–6) — NPS {units.fixed(score, 1)}."
    if source.per is None:
        return text + f" — {units.fixed(100 * counted / total, 1)} %."
    return text + "."


def shown(offset: int, limit: int, total: int) -> str:
    """Which rows the page shows."""
    if total == 0:
        return "No rows"
    last = min(offset + limit, total)
    return f"Rows {offset + 1:,}–{last:,} of {total:,}"


def pages(total: int, size: int = PAGE_SIZE) -> int:
    """How many pages ``total`` rows fill (at least 1).

    >>> pages(0), pages(100), pages(101)
    (1, 1, 2)
    """
    return max(1, -(-total // size))


DERIVED_FORMAT = {"minutes": "%.1f", "hours": "%.1f", "promise": "%g"}
"""How the derived columns read on the page (the download keeps every digit)."""


def in_zone(frame: pd.DataFrame, zone: str) -> pd.DataFrame:
    """``frame`` with every timestamp (stored as UTC instants) written as the wall-clock time
    in ``zone``, to the minute.

    >>> f = pd.DataFrame({"at": pd.to_datetime(["2025-03-30 00:30"]), "n": [1]})
    >>> in_zone(f, "Europe/Madrid")["at"].tolist()
    ['2025-03-30 01:30']
    """
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            times = out[column]
            if times.dt.tz is None:
                times = times.dt.tz_localize("UTC")
            out[column] = times.dt.tz_convert(zone).dt.strftime("%Y-%m-%d %H:%M")
    return out
