"""How a number is written for people, by the catalog unit: the one table every page and chart reads.

The dashboard's cards, tables, route words and charts all write values through here (pure, no
Streamlit), so the same value reads the same everywhere.  The command line never does: its CSV
and JSON keep every digit.

==========  ==================================================================================
unit        written as
==========  ==================================================================================
count       a whole number with thousands separators: ``1,234``
money       two decimals under 1,000 (``12.50``), none from 1,000 on (``1,235``); with the
            currency: the symbol before (``€1,235``; a symbol ending in a letter is followed by
            a space: ``kr 1,235``), else the code after (``1,235 EUR``), else nothing
``%``       one decimal and a percent sign: ``12.5 %``; a change is in points: ``+1.2 pp``
per 100     one decimal: ``33.3``
points      one decimal: ``33.3``
minutes     one unit chosen by size: minutes under 2 h (``95 min``; one decimal under 10 min,
            ``4.5 min``), hours under 48 h (``5.2 h``), days from there (``3.4 days``)
hours       the same as minutes (converted to minutes first): 5.2 hours is ``5.2 h``
missing     ``—`` (``None``, NaN): a missing value is never written as 0
==========  ==================================================================================

The unit and the cents are chosen by the value *as written*: 119.7 minutes rounds to 120, so it
is ``2.0 h``, never ``120 min``; 47.96 hours is ``2.0 days``, never ``48.0 h``; 999.996 is
``1,000``, never ``1,000.00``.  A change (:func:`change_text`) is written by the same rules on
its size, with its sign: ``+€1,235``, ``-25 min``, ``+1.5 pp``; a change that rounds to nothing
has no sign.

A chart or a table column has one unit for all its values: :func:`duration_scale` chooses it
from their median (the same thresholds), :func:`money_decimals` the cents the same way.

Examples
--------
>>> number_text(1234.0, "count"), number_text(10 + 2.5, "money"), number_text(1000.0, "money")
('1,234', '12.50', '1,000')
>>> number_text(999.99, "money", currency=Currency(symbol="€"))
'€999.99'
>>> number_text(1234.5, "money", currency=Currency(code="EUR"))
'1,235 EUR'
>>> number_text(95.0, "minutes"), number_text(120.0, "minutes"), number_text(5 + 0.2, "hours")
('95 min', '2.0 h', '5.2 h')
>>> number_text(48.0, "hours"), number_text(float("nan"), "%")
('2.0 days', '—')
>>> change_text(2.0, 3.5, "%"), change_text(500.0, 1735.0, "money", currency=Currency("€"))
('+1.5 pp', '+€1,235')
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MISSING = "—"

DURATION_UNITS: tuple[str, ...] = ("minutes", "hours")
"""Catalog units that are durations (written in one readable unit chosen by size)."""

MINUTES_UNDER = 120.0
"""Minutes are written as minutes below this (2 h) …"""
HOURS_UNDER = 48.0
"""… and as hours below this many hours (2 days); days from there."""
NO_CENTS_FROM = 1000.0
"""Money from this size on is written without cents."""


@dataclass(frozen=True)
class Currency:
    """The organisation's currency as written beside money: ``symbol`` before, else ``code`` after.

    Both empty (the default) writes money as a plain number.  The values come from the
    settings, which refuse markup in them (:func:`indicators.store.write_setting`).
    """

    symbol: str = ""
    code: str = ""

    def around(self, number: str) -> str:
        """``number`` (already written, no sign) with the currency."""
        if self.symbol:
            gap = " " if self.symbol[-1].isalpha() else ""
            return f"{self.symbol}{gap}{number}"
        if self.code:
            return f"{number} {self.code}"
        return number

    @property
    def prefix(self) -> str:
        """What goes before a money figure (an axis's tick prefix)."""
        if not self.symbol:
            return ""
        return self.symbol + (" " if self.symbol[-1].isalpha() else "")

    @property
    def suffix(self) -> str:
        """What goes after a money figure (an axis's tick suffix)."""
        return "" if self.symbol or not self.code else f" {self.code}"


NO_CURRENCY = Currency()


def fixed(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` decimals and thousands separators, halves rounded up (away
    from zero) as a person rounds: ``fixed(1234.5, 0)`` is ``1,235`` (Python's own formatting
    would write ``1,234``).  The decimal written is the shortest that reads back as the float.

    >>> fixed(1234.5, 0), fixed(2.675, 2), fixed(-0.05, 1)
    ('1,235', '2.68', '-0.1')
    """
    if not math.isfinite(value):
        return f"{value:,.{decimals}f}"
    exact = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    return f"{exact:,.{decimals}f}"


def is_missing(value: object) -> bool:
    """``None``, NaN, ``pd.NA`` or anything that is not a number."""
    if value is None:
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def in_minutes(value: float, unit: str) -> float:
    """A duration of ``unit`` (``minutes`` or ``hours``) in minutes."""
    return value * 60.0 if unit == "hours" else value


@dataclass(frozen=True)
class DurationScale:
    """One unit for a set of durations: ``name`` (``min``, ``h``, ``days``), minutes per unit."""

    name: str
    minutes: float
    decimals: int

    @property
    def title(self) -> str:
        """The unit as a word for an axis title: ``minutes``, ``hours``, ``days``."""
        return {"min": "minutes", "h": "hours"}.get(self.name, self.name)

    def value(self, minutes: float) -> float:
        """``minutes`` in this unit."""
        return minutes / self.minutes

    def text(self, minutes: float) -> str:
        """``minutes`` written in this unit: ``5.2 h``."""
        return f"{fixed(self.value(minutes), self.decimals)} {self.name}"


MINUTE_SCALE = DurationScale("min", 1.0, 0)
HOUR_SCALE = DurationScale("h", 60.0, 1)
DAY_SCALE = DurationScale("days", 1440.0, 1)


def duration_unit(minutes: float) -> DurationScale:
    """The unit a duration of ``minutes`` is written in (chosen on the rounded value).

    >>> [duration_unit(m).name for m in (119.4, 119.7, 120.0, 47.9 * 60, 48 * 60)]
    ['min', 'h', 'h', 'h', 'days']
    """
    size = abs(minutes)
    if _read_back(fixed(size, 0)) < MINUTES_UNDER:
        return MINUTE_SCALE
    if _read_back(fixed(size / 60, 1)) < HOURS_UNDER:
        return HOUR_SCALE
    return DAY_SCALE


def _read_back(text: str) -> float:
    return float(text.replace(",", ""))


def duration_text(minutes: float) -> str:
    """A duration in minutes written in its readable unit (see the module docstring).

    >>> duration_text(4.5), duration_text(95.0), duration_text(314.5), duration_text(3.4 * 1440)
    ('4.5 min', '95 min', '5.2 h', '3.4 days')
    """
    scale = duration_unit(minutes)
    if scale is MINUTE_SCALE and _read_back(fixed(abs(minutes), 1)) < 10:
        return f"{fixed(minutes, 1)} min"
    return scale.text(minutes)


def duration_scale(minutes: Iterable[float]) -> DurationScale:
    """One unit for many durations (a chart axis, a table column): the unit of their median.

    Missing values are left out; with none, minutes.

    >>> duration_scale([30.0, 200.0, 400.0]).name, duration_scale([float("nan")]).name
    ('h', 'min')
    """
    present = [abs(float(m)) for m in minutes if not is_missing(m)]
    if not present:
        return MINUTE_SCALE
    return duration_unit(statistics.median(present))


def money_decimals(values: Iterable[float]) -> int:
    """Cents for a column of money: 2, or 0 when the median size is 1,000 or more.

    >>> money_decimals([12.5, 20.0]), money_decimals([900.0, 1200.0, 5000.0])
    (2, 0)
    """
    present = [abs(float(v)) for v in values if not is_missing(v)]
    if not present:
        return 2
    return 0 if _read_back(fixed(statistics.median(present), 2)) >= NO_CENTS_FROM else 2


def _money_body(size: float) -> str:
    body = fixed(size, 2)
    return fixed(size, 0) if _read_back(body) >= NO_CENTS_FROM else body


def _rounds_to_zero(text: str) -> bool:
    return not any(ch in "123456789" for ch in text)


def number_text(value: object, unit: str, *, currency: Currency = NO_CURRENCY) -> str:
    """``value`` written for its unit (the module docstring's table); ``—`` when missing."""
    if is_missing(value):
        return MISSING
    v = float(value)  # type: ignore[arg-type]
    if unit == "count":
        return fixed(v, 0)
    if unit == "money":
        body = _money_body(abs(v))
        sign = "-" if v < 0 and not _rounds_to_zero(body) else ""
        return sign + currency.around(body)
    if unit == "%":
        return f"{fixed(v, 1)} %"
    if unit in DURATION_UNITS:
        return duration_text(in_minutes(v, unit))
    return fixed(v, 1)


def change_text(
    old: object, new: object, unit: str, *, currency: Currency = NO_CURRENCY
) -> str | None:
    """The change from ``old`` to ``new`` with its sign, or ``None`` when either is missing.

    Percentages change by percentage points (``pp``), not by percent; money and durations by
    the rules of :func:`number_text` applied to the size of the change.
    """
    if is_missing(old) or is_missing(new):
        return None
    d = float(new) - float(old)  # type: ignore[arg-type]
    size = abs(d)
    if unit == "%":
        text = f"{fixed(size, 1)} pp"
    elif unit == "money":
        body = _money_body(size)
        text = currency.around(body)
        if _rounds_to_zero(body):
            return text
    else:
        text = number_text(size, unit, currency=currency)
    if _rounds_to_zero(text):
        # Rounds to nothing: no sign, so it is not shown as a rise or a fall.
        return text
    return ("+" if d > 0 else "-") + text


def printf_format(
    unit: str, values: Iterable[float], *, currency: Currency = NO_CURRENCY
) -> tuple[str, float]:
    """A printf format for a table column of ``unit`` and the factor its values are divided by.

    Durations get the unit of the column's median (:func:`duration_scale`; the values are
    divided by the factor, and the header says the unit: :func:`column_unit`), money its cents
    by :func:`money_decimals` and the currency.  ``%`` in a currency is escaped.

    >>> printf_format("hours", [5.0, 6.0]), printf_format("minutes", [150.0, 300.0, 4000.0])
    (('%,.1f', 1.0), ('%,.1f', 60.0))
    >>> printf_format("money", [1500.0, 2500.0], currency=Currency(symbol="€"))
    ('€%,.0f', 1.0)
    """
    values = list(values)
    if unit in DURATION_UNITS:
        scale = duration_scale(in_minutes(float(v), unit) for v in values if not is_missing(v))
        factor = scale.minutes / (60.0 if unit == "hours" else 1.0)
        return f"%,.{scale.decimals}f", factor
    if unit == "money":
        body = f"%,.{money_decimals(values)}f"
        escaped = Currency(currency.symbol.replace("%", "%%"), currency.code.replace("%", "%%"))
        return escaped.around(body), 1.0
    return {
        "count": "%,d",
        "%": "%.1f %%",
        "per 100": "%.1f",
        "points": "%.1f",
    }.get(unit, "%.2f"), 1.0


def column_unit(unit: str, values: Iterable[float]) -> str:
    """The unit word for a table header: ``h`` for durations in hours, else ``unit``.

    >>> column_unit("minutes", [200.0, 300.0]), column_unit("%", [1.0])
    ('h', '%')
    """
    if unit in DURATION_UNITS:
        return duration_scale(in_minutes(float(v), unit) for v in values if not is_missing(v)).name
    return unit
