"""Months: the one place that reads, writes and counts them (pure, standard library only).

A *month* is written ``YYYY-MM`` — four digits, a hyphen, two digits, ``01``–``12`` (ASCII
digits only; spaces around it are ignored, nothing else is): that text is the month everywhere
in the engine's tables, the command line and the pages.  In the database a month is a ``DATE``,
the first day of the month; :func:`parse` and :func:`label` go between the two.

Arithmetic is on the *index* of a month, ``year × 12 + (month − 1)`` (:func:`index`), so a
shift crosses years without a calendar: ``2025-12`` + 1 is ``2026-01``.  Months run from
``0001-01`` to ``9999-12`` (the range of :class:`datetime.date`); a shift past either end is a
``ValueError``, never a wrapped-around month.

==========================  =================================================================
function                    what it gives
==========================  =================================================================
``parse(m)``                the first day of ``m`` (a ``date``); ``ValueError`` naming ``m``
``label(d)``                the month of a date (or datetime, ``pd.Timestamp``): ``YYYY-MM``
``index(m)``                ``year × 12 + (month − 1)``; ``from_index`` goes back
``shift(m, by)``            ``m`` moved ``by`` months (negative: earlier)
``months_between(a, b)``    whole months from ``a`` to ``b``, negative when ``b`` is earlier
``span(first, last)``       every month from ``first`` to ``last`` inclusive (empty if
                            ``last`` is earlier); ``range`` is the same function
``cover(months)``           every month from the earliest to the latest of ``months``
``between(m, first, last)`` whether ``first ≤ m ≤ last``
==========================  =================================================================

Because ``YYYY-MM`` text sorts as the months do, comparing two labels (``"2025-02" <
"2025-10"``) is comparing the months; :func:`between` is that comparison with its arguments
checked.

Examples
--------
>>> shift("2025-12", 1), shift("2025-01", -1), shift("2025-02", -14)
('2026-01', '2024-12', '2023-12')
>>> months_between("2024-11", "2025-02"), months_between("2025-02", "2024-11")
(3, -3)
>>> span("2025-11", "2026-01")
['2025-11', '2025-12', '2026-01']
>>> between("2025-06", "2025-01", "2025-12"), between("2026-01", "2025-01", "2025-12")
(True, False)
>>> import datetime as dt
>>> parse("2025-03"), label(dt.date(2025, 3, 31))
(datetime.date(2025, 3, 1), '2025-03')
"""

from __future__ import annotations

import builtins
import datetime as dt
import re
from collections.abc import Iterable

FIRST_INDEX = 1 * 12
"""The index of ``0001-01``, the earliest month."""
LAST_INDEX = 9999 * 12 + 11
"""The index of ``9999-12``, the latest month."""

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def index(month: str) -> int:
    """``year × 12 + (month − 1)`` of a ``YYYY-MM`` month; ``ValueError`` naming anything else.

    >>> index("2025-03") - index("2024-12"), index("0001-01"), index("2025-01") == 2025 * 12
    (3, 12, True)
    """
    found = _MONTH.fullmatch(month.strip()) if isinstance(month, str) else None
    if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1:
        raise ValueError(f"a month is written YYYY-MM (0001-01 to 9999-12), got {month!r}")
    return int(found[1]) * 12 + int(found[2]) - 1


def from_index(i: int) -> str:
    """The ``YYYY-MM`` of a month :func:`index`; ``ValueError`` outside ``0001-01``–``9999-12``.

    >>> from_index(index("2025-12") + 1)
    '2026-01'
    """
    if not FIRST_INDEX <= i <= LAST_INDEX:
        raise ValueError(f"month index {i} is outside 0001-01 … 9999-12")
    year, month0 = divmod(i, 12)
    return f"{year:04d}-{month0 + 1:02d}"


def parse(month: str) -> dt.date:
    """The first day of ``month`` (``YYYY-MM``); ``ValueError`` naming the value otherwise.

    >>> parse("2024-02")
    datetime.date(2024, 2, 1)
    """
    year, month0 = divmod(index(month), 12)
    return dt.date(year, month0 + 1, 1)


def label(day: dt.date) -> str:
    """The ``YYYY-MM`` month a date (a ``datetime``, a ``pd.Timestamp``) falls in.

    >>> label(dt.datetime(2025, 12, 31, 23, 59))
    '2025-12'
    """
    return f"{day.year:04d}-{day.month:02d}"


def shift(month: str, by: int) -> str:
    """``month`` moved ``by`` months (negative: earlier); ``ValueError`` past 0001-01 or 9999-12.

    >>> shift("2025-11", 3), shift("2024-06", -24)
    ('2026-02', '2022-06')
    """
    return from_index(index(month) + by)


def months_between(start: str, end: str) -> int:
    """Whole months from ``start`` to ``end``: ``shift(start, months_between(start, end)) == end``.

    >>> months_between("2025-01", "2025-01"), months_between("2024-12", "2026-01")
    (0, 13)
    """
    return index(end) - index(start)


def span(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive; empty when ``last`` is earlier.

    >>> span("2025-02", "2025-02"), span("2025-02", "2025-01")
    (['2025-02'], [])
    """
    return [from_index(i) for i in builtins.range(index(first), index(last) + 1)]


def cover(months: Iterable[str]) -> list[str]:
    """Every month from the earliest to the latest of ``months``, in order (empty: none).

    >>> cover(["2025-03", "2024-12", "2025-01"])
    ['2024-12', '2025-01', '2025-02', '2025-03']
    """
    given = [index(m) for m in months]
    if not given:
        return []
    return [from_index(i) for i in builtins.range(min(given), max(given) + 1)]


def between(month: str, first: str, last: str) -> bool:
    """Whether ``month`` lies from ``first`` to ``last``, both included.

    >>> between("2025-01", "2025-01", "2025-01"), between("2024-12", "2025-01", "2025-03")
    (True, False)
    """
    return index(first) <= index(month) <= index(last)


range = span  # noqa: A001 - ``months.range`` reads as the callers mean it; span is the same
