"""How a number is written for people, by the catalog unit: the one table every page and chart reads.

The dashboard's cards, tables, route words and charts all write values through here (pure, no
Streamlit), so the same value reads the same everywhere.  The command line's ``report`` and
``route`` round in SQL to the same decimals (:attr:`Unit.decimals`; money to the cent) and keep
every digit with ``--exact`` (:mod:`indicators.report`).

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
score       two decimals: ``5.25`` (a mean score on a 1–7 scale)
minutes     one unit chosen by size: minutes under 2 h (``95 min``; one decimal under 10 min,
            ``4.5 min``), hours under 48 h (``5.2 h``), days from there (``3.4 days``)
hours       the same as minutes (converted to minutes first): 5.2 hours is ``5.2 h``
days        the same as minutes (converted to minutes first): 3.4 days is ``3.4 days``
missing     ``—`` (``None``, NaN): a missing value is never written as 0
==========  ==================================================================================

The unit and the cents are chosen by the value *as written*: 119.7 minutes rounds to 120, so it
is ``2.0 h``, never ``120 min``; 47.96 hours is ``2.0 days``, never ``48.0 h``; 999.996 is
``1,000``, never ``1,000.00``.  A change (:func:`change_text`) is written by the same rules on
its size, with its sign: ``+€1,235``, ``-25 min``, ``+1.5 pp``; a change that rounds to nothing
has no sign.

A chart or a table column has one unit for all its values: :func:`duration_scale` chooses it
from their median (the same thresholds), :func:`money_decimals` the cents the same way.

**One object per unit.**  Each row of the table is a :class:`Unit` in :data:`UNITS`, keyed by
the catalog's unit name (:func:`unit_of` gives an indicator's): it writes a value
(:meth:`Unit.text`, also the charts' hover), a change (:meth:`Unit.change`), a table column's
printf format and header unit (:meth:`Unit.column`, :meth:`Unit.column_unit`), a chart axis
(:meth:`Unit.axis`) and the word beside an indicator's label (:attr:`Unit.label`).  The
functions below (:func:`number_text`, :func:`change_text`, :func:`printf_format`,
:func:`column_unit`) look the unit up and call it; an unknown unit is a ``KeyError``.
:func:`is_missing` is the one test for a missing value (``None``, NaN, ``pd.NA``, ``NaT``).

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
>>> unit_of("csat").text(74.94), UNITS["hours"].axis([5.0, 6.0]).title
('74.9 %', 'hours')
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from types import MappingProxyType
from typing import Literal

MISSING = "—"

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
    exact = Decimal(repr(float(value))).quantize(
        Decimal(1).scaleb(-decimals), ROUND_HALF_UP, context=_WIDE
    )
    return f"{exact:,.{decimals}f}"


_WIDE = Context(prec=400)
"""Room for every digit of the largest float (about 1.8e308) and its decimals: the default
28 digits would refuse to round a value from 1e28 on."""


def is_missing(value: object) -> bool:
    """``None``, NaN, ``pd.NA`` or anything that is not a number."""
    if value is None:
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


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
    return not any(ch in "123456789" for ch in text) and "inf" not in text


# --- the units ------------------------------------------------------------------------------

Kind = Literal["plain", "money", "duration"]


@dataclass(frozen=True)
class AxisFormat:
    """How a chart axis carries one unit: plotted value = value ÷ ``factor``, ``title`` beside
    it, ``prefix``/``suffix`` on every tick (the currency)."""

    title: str
    factor: float = 1.0
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class Unit:
    """One catalog unit and every way its values are written (the module docstring's table).

    ``kind`` says which rules apply: ``plain`` units are ``decimals`` decimals and ``suffix``
    (a change: ``change_suffix``); ``money`` has cents under 1,000 and the currency; a
    ``duration`` of ``minutes`` minutes per stored unit is written in the unit its size calls
    for.  ``word`` names the unit beside an indicator's label (a duration is only "time": its
    figures carry their own unit).  Look a unit up by its catalog name in :data:`UNITS`, or by
    indicator with :func:`unit_of`.

    >>> UNITS["%"].text(12.5), UNITS["%"].change(12.5, 10.0), UNITS["hours"].word
    ('12.5 %', '-2.5 pp', 'time')
    """

    name: str
    kind: Kind = "plain"
    decimals: int = 1
    suffix: str = ""
    change_suffix: str | None = None
    minutes: float = 1.0
    word: str | None = None

    @property
    def is_duration(self) -> bool:
        return self.kind == "duration"

    @property
    def label(self) -> str:
        """The unit beside an indicator's label: ``%``, ``per 100``, ``time``."""
        return self.word or self.name

    def text(self, value: object, *, currency: Currency = NO_CURRENCY) -> str:
        """``value`` as a card, a table cell, a hover or a route sentence writes it; ``—`` when
        missing."""
        if is_missing(value):
            return MISSING
        v = float(value)  # type: ignore[arg-type]
        if self.kind == "money":
            body = _money_body(abs(v))
            sign = "-" if v < 0 and not _rounds_to_zero(body) else ""
            return sign + currency.around(body)
        if self.kind == "duration":
            return duration_text(v * self.minutes)
        return fixed(v, self.decimals) + self.suffix

    hover = text
    """A chart's hover and bar labels write a value as the cards do."""

    def change(self, old: object, new: object, *, currency: Currency = NO_CURRENCY) -> str | None:
        """The change from ``old`` to ``new`` with its sign; ``None`` when either is missing.

        A change that rounds to nothing has no sign, so it is not shown as a rise or a fall.
        """
        if is_missing(old) or is_missing(new):
            return None
        d = float(new) - float(old)  # type: ignore[arg-type]
        size = abs(d)
        if self.kind == "money":
            body = _money_body(size)
            if _rounds_to_zero(body):
                return currency.around(body)
            text = currency.around(body)
        elif self.kind == "duration":
            text = duration_text(size * self.minutes)
        else:
            suffix = self.suffix if self.change_suffix is None else self.change_suffix
            text = fixed(size, self.decimals) + suffix
        if _rounds_to_zero(text):
            return text
        return ("+" if d > 0 else "-") + text

    def scale(self, values: Iterable[float]) -> DurationScale:
        """The one unit a column or an axis of these durations is written in (its median's)."""
        return duration_scale(float(v) * self.minutes for v in values if not is_missing(v))

    def column(
        self, values: Iterable[float], *, currency: Currency = NO_CURRENCY
    ) -> tuple[str, float]:
        """A printf format for a table column of ``values`` and the factor they are divided by
        (:func:`printf_format`)."""
        values = list(values)
        if self.kind == "duration":
            scale = self.scale(values)
            return f"%,.{scale.decimals}f", scale.minutes / self.minutes
        if self.kind == "money":
            body = f"%,.{money_decimals(values)}f"
            escaped = Currency(currency.symbol.replace("%", "%%"), currency.code.replace("%", "%%"))
            return escaped.around(body), 1.0
        number = "%,d" if self.decimals == 0 else f"%.{self.decimals}f"
        return number + self.suffix.replace("%", "%%"), 1.0

    def column_unit(self, values: Iterable[float]) -> str:
        """The unit word for a column header: the durations' scale (``h``), else the name."""
        return self.scale(values).name if self.kind == "duration" else self.name

    def axis(self, values: Iterable[float], *, currency: Currency = NO_CURRENCY) -> AxisFormat:
        """The axis for ``values``: durations in the unit of their median (``hours``), money
        with the currency on the ticks (a code in the title too), else the unit's name."""
        if self.kind == "duration":
            scale = self.scale(values)
            return AxisFormat(scale.title, scale.minutes / self.minutes)
        if self.kind == "money":
            title = currency.code or ("" if currency.symbol else "money")
            return AxisFormat(title, 1.0, currency.prefix, currency.suffix)
        return AxisFormat(self.name)


_EVERY_UNIT: tuple[Unit, ...] = (
    Unit("count", decimals=0),
    Unit("money", kind="money"),
    Unit("%", decimals=1, suffix=" %", change_suffix=" pp"),
    Unit("per 100", decimals=1),
    Unit("points", decimals=1),
    Unit("score", decimals=2),
    Unit("minutes", kind="duration", minutes=1.0, word="time"),
    Unit("hours", kind="duration", minutes=60.0, word="time"),
    Unit("days", kind="duration", minutes=1440.0, word="time"),
)

UNITS: Mapping[str, Unit] = MappingProxyType({u.name: u for u in _EVERY_UNIT})
"""Every catalog unit by its name (a test checks that each catalog indicator's unit is here)."""

DURATION_UNITS: tuple[str, ...] = tuple(u.name for u in UNITS.values() if u.is_duration)
"""Catalog units that are durations (written in one readable unit chosen by size)."""


def lookup(unit: str) -> Unit:
    """The :class:`Unit` named ``unit``; ``KeyError`` naming the known ones otherwise.

    >>> lookup("per 100").text(1 / 3 * 100)
    '33.3'
    """
    try:
        return UNITS[unit]
    except KeyError:
        raise KeyError(f"unknown unit {unit!r}; the units are {', '.join(UNITS)}") from None


def unit_of(indicator_id: str) -> Unit:
    """The :class:`Unit` the catalog gives ``indicator_id``.

    >>> unit_of("response_time_median").name, unit_of("csat").text(74.94)
    ('minutes', '74.9 %')
    """
    from indicators import catalog

    return lookup(catalog.get(indicator_id).unit)


# --- the functions the pages and charts call (each reads its unit above) ------------------


def in_minutes(value: float, unit: str) -> float:
    """A duration of ``unit`` (``minutes`` or ``hours``) in minutes."""
    return value * lookup(unit).minutes


def number_text(value: object, unit: str, *, currency: Currency = NO_CURRENCY) -> str:
    """``value`` written for its unit (the module docstring's table); ``—`` when missing."""
    return lookup(unit).text(value, currency=currency)


def change_text(
    old: object, new: object, unit: str, *, currency: Currency = NO_CURRENCY
) -> str | None:
    """The change from ``old`` to ``new`` with its sign, or ``None`` when either is missing.

    Percentages change by percentage points (``pp``), not by percent; money and durations by
    the rules of :func:`number_text` applied to the size of the change.
    """
    return lookup(unit).change(old, new, currency=currency)


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
    >>> printf_format("count", [3.0]), printf_format("%", [12.5])
    (('%,d', 1.0), ('%.1f %%', 1.0))
    """
    return lookup(unit).column(values, currency=currency)


def column_unit(unit: str, values: Iterable[float]) -> str:
    """The unit word for a table header: ``h`` for durations in hours, else ``unit``.

    >>> column_unit("minutes", [200.0, 300.0]), column_unit("%", [1.0])
    ('h', '%')
    """
    return lookup(unit).column_unit(values)
