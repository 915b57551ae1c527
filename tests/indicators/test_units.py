"""indicators.units: one Unit per catalog unit, read by the cards, charts, tables and route words
(issue 17, point 3).  Expected texts are written by hand from the rules of the module docstring.
"""

from __future__ import annotations

import doctest
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import indicators
from dashboard import format as fmt
from dashboard import route_words
from indicators import catalog, charts, units
from indicators.units import UNITS, Currency, is_missing, unit_of

ROOT = Path(__file__).resolve().parents[2]
NAN = float("nan")
EURO = Currency(symbol="€")


def test_the_doctests_hold():
    assert doctest.testmod(units).failed == 0
    assert doctest.testmod(indicators).failed == 0


def test_every_catalog_unit_has_its_unit_object():
    assert {ind.unit for ind in catalog.INDICATORS} <= set(UNITS)
    for ind in catalog.INDICATORS:
        assert unit_of(ind.id) is UNITS[ind.unit]


def test_an_unknown_unit_is_refused_by_name():
    with pytest.raises(KeyError, match="unknown unit 'furlongs'"):
        units.number_text(1.0, "furlongs")
    with pytest.raises(KeyError, match="furlongs"):
        units.printf_format("furlongs", [1.0])


@pytest.mark.parametrize(("unit", "value", "text"), [
    ("count", 1234.0, "1,234"),
    ("count", 0.5, "1"),                     # halves up, as a person rounds
    ("count", 2.5, "3"),                     # not to even
    ("money", 12.5, "12.50"),
    ("money", 999.994, "999.99"),
    ("money", 999.996, "1,000"),             # rounds to 1,000.00: written without cents
    ("money", -0.004, "0.00"),               # rounds to nothing: no sign
    ("money", -1234.5, "-1,235"),
    ("%", 12.25, "12.3 %"),
    ("%", 100.0, "100.0 %"),
    ("per 100", 100 / 3, "33.3"),
    ("points", -100 / 3, "-33.3"),
    ("minutes", 4.5, "4.5 min"),
    ("minutes", 5 * 60 + 14, "5.2 h"),       # 314 ÷ 60 = 5.23
    ("hours", 0.5, "30 min"),
    ("hours", 3.4 * 24, "3.4 days"),
])
def test_each_unit_writes_a_value_as_its_rule_says(unit, value, text):
    assert UNITS[unit].text(value) == text
    assert units.number_text(value, unit) == text
    assert UNITS[unit].hover(value) == text     # a chart's hover reads as the card


@pytest.mark.parametrize("unit", list(UNITS))
@pytest.mark.parametrize("missing", [None, NAN, pd.NA, pd.NaT, float("nan") * 0, "n/a"])
def test_a_missing_value_is_a_dash_in_every_unit_and_its_change_is_none(unit, missing):
    assert UNITS[unit].text(missing) == "—"
    assert UNITS[unit].change(missing, 1.0) is None
    assert UNITS[unit].change(1.0, missing) is None


@pytest.mark.parametrize(("value", "missing"), [
    (None, True), (NAN, True), (pd.NA, True), (pd.NaT, True), ("x", True), (object(), True),
    (0.0, False), (0, False), (-0.0, False), (1e-300, False), (math.inf, False), ("2.5", False),
])
def test_is_missing_is_the_one_test_and_the_pages_use_it(value, missing):
    assert is_missing(value) is missing
    assert fmt.is_missing is units.is_missing
    assert route_words.is_missing is units.is_missing
    assert charts.is_missing is units.is_missing


@pytest.mark.parametrize(("unit", "value", "text"), [
    ("count", 1e30, "1," + ",".join(["000"] * 10)),          # 10 ** 30: eleven groups
    ("money", 1e28, "10," + ",".join(["000"] * 9)),          # 10 ** 28, no cents
    ("%", -1e28, "-10," + ",".join(["000"] * 9) + ".0 %"),
    ("count", 1e-300, "0"),
    ("money", 5e-324, "0.00"),                               # the smallest float
    ("%", 0.04999, "0.0 %"),
    ("minutes", 1e-9, "0.0 min"),
])
def test_tiny_and_huge_values_are_written_not_refused(unit, value, text):
    assert UNITS[unit].text(value) == text


def test_the_largest_float_keeps_all_its_digits():
    text = UNITS["count"].text(1.7976931348623157e308)
    assert text.startswith("179,769,313,486,231,570,") and text.count(",") == 308 // 3


@pytest.mark.parametrize(("unit", "old", "new", "text"), [
    ("count", 10.0, 7.0, "-3"),
    ("count", 3.0, 3.4, "0"),                 # rounds to nothing: no sign
    ("%", 12.5, 10.0, "-2.5 pp"),             # points, not percent
    ("%", 2.0, 3.5, "+1.5 pp"),
    ("per 100", 1.0, 1.04, "0.0"),
    ("points", -20.0, 13.0, "+33.0"),
    ("money", 500.0, 1735.0, "+1,235"),
    ("money", 10.0, 10.001, "0.00"),
    ("minutes", 60.0, 35.0, "-25 min"),
    ("hours", 1.0, 1.5, "+30 min"),           # half an hour
])
def test_each_unit_writes_a_change_with_its_sign(unit, old, new, text):
    assert UNITS[unit].change(old, new) == text
    assert units.change_text(old, new, unit) == text


def test_money_carries_the_currency_in_text_change_column_and_axis():
    money = UNITS["money"]
    assert money.text(1234.5, currency=EURO) == "€1,235"
    assert money.change(10.0, 22.5, currency=EURO) == "+€12.50"
    assert money.column([1500.0, 2500.0], currency=EURO) == ("€%,.0f", 1.0)
    axis = money.axis([1.0], currency=Currency(code="EUR"))
    assert (axis.title, axis.prefix, axis.suffix) == ("EUR", "", " EUR")
    assert money.axis([1.0]).title == "money"


@pytest.mark.parametrize(("unit", "column"), [
    ("count", "%,d"), ("%", "%.1f %%"), ("per 100", "%.1f"), ("points", "%.1f"),
])
def test_plain_units_have_a_fixed_column_format(unit, column):
    assert UNITS[unit].column([1.0, 2.0]) == (column, 1.0)
    assert UNITS[unit].column_unit([1.0]) == unit


@pytest.mark.parametrize(("unit", "values", "title", "factor"), [
    ("minutes", [30.0, 45.0, 100.0], "minutes", 1.0),        # median 45 min
    ("minutes", [100.0, 300.0, 5000.0], "hours", 60.0),      # median 300 min = 5 h
    ("hours", [2.0, 5.0, 6.0], "hours", 1.0),                # median 5 h, as stored
    ("hours", [50.0, 100.0], "days", 24.0),                  # median 75 h = 3.1 days
    ("hours", [0.5, 1.0, NAN], "minutes", 1 / 60),           # the missing one left out
])
def test_a_duration_axis_and_column_take_the_unit_of_their_median(unit, values, title, factor):
    axis = UNITS[unit].axis(values)
    assert axis.title == title
    assert axis.factor == pytest.approx(factor)
    assert UNITS[unit].column(values)[1] == pytest.approx(factor)


def test_the_charts_axis_is_the_units_axis():
    values = [100.0, 300.0, 5000.0]
    axis = charts.value_axis("response_time_median", values)
    assert (axis.title, axis.factor) == ("hours", 60.0)
    assert axis.plotted([120.0, NAN])[0] == 120.0 / 60
    assert math.isnan(axis.plotted([120.0, NAN])[1])
    assert charts.value_axis("csat", [1.0]).title == "%"


def test_the_unit_word_beside_a_label_says_time_for_durations():
    assert [UNITS[u].label for u in ("minutes", "hours", "%", "per 100")] == [
        "time", "time", "%", "per 100"]
    assert route_words.indicator_name("response_time_median") == "Response time (median) · time"


def test_importing_the_package_loads_no_module_of_it(tmp_path):
    code = ("import sys, indicators; "
            "loaded = sorted(m for m in sys.modules if m.startswith('indicators.')); "
            "assert loaded == [], loaded; assert 'pandas' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True,
                   env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
