"""Numbers for readers (issue 15, item 6): durations in one readable unit, money with its
currency and no cents from 1,000 on, the same text on every page, and a currency per session.

Expected texts are written by hand from the rule: minutes under 2 h, hours under 48 h, days
beyond (hours converted to minutes first); two decimals under 1,000, none from 1,000 on;
symbol before, else code after.
"""

from __future__ import annotations

import doctest
import threading

import pandas as pd
import pytest

from dashboard import format as fmt
from indicators import charts, units
from indicators.units import Currency

EURO = Currency(symbol="€")
EUR = Currency(code="EUR")


@pytest.mark.parametrize(("minutes", "text"), [
    (4.5, "4.5 min"),          # under 10 minutes: one decimal
    (9.96, "10 min"),          # 10.0 as written: whole minutes from there
    (95.0, "95 min"),
    (119.4, "119 min"),
    (119.9, "2.0 h"),          # 119.9 rounds to 120: written as 2 hours, never "120 min"
    (120.0, "2.0 h"),
    (5 * 60 + 14, "5.2 h"),    # the "5 h 14 min" = 314 min = 5.23 h
    (47.9 * 60, "47.9 h"),
    (47.96 * 60, "2.0 days"),  # 47.96 h rounds to 48.0: written in days
    (48 * 60, "2.0 days"),
    (3.4 * 24 * 60, "3.4 days"),
    (1000 * 24 * 60, "1,000.0 days"),
])
def test_a_duration_in_minutes_is_written_in_the_unit_of_its_size(minutes, text):
    assert units.number_text(minutes, "minutes") == text


@pytest.mark.parametrize(("hours", "text"), [
    (1.5, "90 min"),            # 1.5 h = 90 min < 2 h
    (119.9 / 60, "2.0 h"),
    (2.0, "2.0 h"),
    (47.9, "47.9 h"),
    (48.0, "2.0 days"),
    (122.0, "5.1 days"),        # 122 / 24 = 5.083…
    (167.0, "7.0 days"),        # 167 / 24 = 6.958…
])
def test_a_duration_in_hours_follows_the_same_rule(hours, text):
    assert units.number_text(hours, "hours") == text


def test_the_same_duration_reads_the_same_in_minutes_and_in_hours():
    # The issue: "5 h 14 min" on one page, "314.5 min" on another, for one duration.
    assert units.number_text(314.5, "minutes") == units.number_text(314.5 / 60, "hours") == "5.2 h"


@pytest.mark.parametrize(("value", "plain", "symbol", "code"), [
    (12.5, "12.50", "€12.50", "12.50 EUR"),
    (999.99, "999.99", "€999.99", "999.99 EUR"),
    (999.999, "1,000", "€1,000", "1,000 EUR"),     # 1,000.00 as written: no cents
    (1000.0, "1,000", "€1,000", "1,000 EUR"),
    (1234.5, "1,235", "€1,235", "1,235 EUR"),     # halves round up, as people round
    (1234567.891, "1,234,568", "€1,234,568", "1,234,568 EUR"),
    (-12.5, "-12.50", "-€12.50", "-12.50 EUR"),
    (0.0, "0.00", "€0.00", "0.00 EUR"),
])
def test_money_has_cents_only_under_1000_and_its_currency(value, plain, symbol, code):
    assert units.number_text(value, "money") == plain
    assert units.number_text(value, "money", currency=EURO) == symbol
    assert units.number_text(value, "money", currency=EUR) == code


def test_the_symbol_wins_over_the_code_and_a_word_symbol_gets_a_space():
    both = Currency(symbol="€", code="EUR")
    assert units.number_text(1500.0, "money", currency=both) == "€1,500"
    assert units.number_text(1500.0, "money", currency=Currency(symbol="kr")) == "kr 1,500"


@pytest.mark.parametrize(("old", "new", "unit", "currency", "text"), [
    (2.0, 3.5, "%", units.NO_CURRENCY, "+1.5 pp"),
    (10.0, 22.5, "money", EURO, "+€12.50"),
    (500.0, 500.0 + 1234.5, "money", EURO, "+€1,235"),   # a change of 1,234.50: no cents
    (2000.0, 1000.0, "money", EUR, "-1,000 EUR"),
    (10.0, 10.0, "money", EURO, "€0.00"),                 # nothing: no sign
    (60.0, 35.0, "minutes", units.NO_CURRENCY, "-25 min"),
    (100.0, 100.0 + 300.0, "minutes", units.NO_CURRENCY, "+5.0 h"),      # 300 min = 5 h
    (10.0, 10.0 + 50.0, "hours", units.NO_CURRENCY, "+2.1 days"),        # 50 / 24 = 2.083…
    (1.0, 1.5, "hours", units.NO_CURRENCY, "+30 min"),                   # half an hour
    (3.0, 3.0, "count", units.NO_CURRENCY, "0"),
    (float("nan"), 3.0, "count", units.NO_CURRENCY, None),
])
def test_a_change_is_written_by_the_rules_of_its_size_with_its_sign(old, new, unit, currency, text):
    assert units.change_text(old, new, unit, currency=currency) == text


def test_the_dashboard_writes_money_in_the_currency_of_the_run():
    assert fmt.format_value(1234.5, "money") == "1,235"  # default: no currency
    with fmt.currency_context(EURO):
        assert fmt.format_value(1234.5, "money") == "€1,235"
        assert fmt.format_indicator(12.5, "average_ticket") == "€12.50"
        assert fmt.format_delta(10.0, 22.5, "money") == "+€12.50"
        assert fmt.format_value(12.5, "%") == "12.5 %"  # only money carries it
    assert fmt.format_value(1234.5, "money") == "1,235"  # restored after the block


def test_the_currency_of_one_thread_never_shows_in_another():
    # Streamlit runs each session's script in its own thread; a new thread starts with an
    # empty context, so the currency one session set is not another's.
    seen: dict[str, str] = {}

    def session(name: str, currency: Currency) -> None:
        fmt.CURRENCY.set(currency)
        barrier.wait()
        seen[name] = fmt.format_value(1500.0, "money")

    barrier = threading.Barrier(3)
    threads = [threading.Thread(target=session, args=("euro", EURO)),
               threading.Thread(target=session, args=("code", EUR)),
               threading.Thread(target=session, args=("none", units.NO_CURRENCY))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"euro": "€1,500", "code": "1,500 EUR", "none": "1,500"}
    assert fmt.format_value(1500.0, "money") == "1,500"  # this thread never set one


@pytest.mark.parametrize(("unit", "values", "expected"), [
    ("minutes", [30.0, 45.0, 100.0], ("min", 1.0)),          # median 45 min
    ("minutes", [100.0, 300.0, 5000.0], ("h", 60.0)),        # median 300 min = 5 h
    ("minutes", [3000.0, 4000.0], ("days", 1440.0)),         # median 3,500 min = 58 h
    ("hours", [2.0, 5.0, 6.0], ("h", 1.0)),                  # median 5 h: hours as stored
    ("hours", [0.5, 1.0], ("min", 1 / 60)),                  # median 0.75 h = 45 min
    ("hours", [50.0, 100.0], ("days", 24.0)),                # median 75 h
])
def test_a_table_column_of_durations_has_one_unit_by_its_median(unit, values, expected):
    name, factor = expected
    fmt_string, got = units.printf_format(unit, values)
    assert units.column_unit(unit, values) == name
    assert got == pytest.approx(factor)
    assert fmt_string == ("%,.0f" if name == "min" else "%,.1f")


def test_a_table_column_of_money_drops_its_cents_by_its_median():
    assert units.printf_format("money", [12.5, 20.0, 3000.0], currency=EURO) == ("€%,.2f", 1.0)
    assert units.printf_format("money", [900.0, 1200.0, 5000.0], currency=EUR) == (
        "%,.0f EUR", 1.0)
    # a percent sign in a symbol is not a printf directive
    assert units.printf_format("money", [1.0], currency=Currency(symbol="%")) == ("%%%,.2f", 1.0)


def _table(values: list[float], indicator: str) -> pd.DataFrame:
    months = [f"2025-0{i + 1}" for i in range(len(values))]
    return pd.DataFrame({"month": months * 2, "department": ["North"] * len(values) + ["All"] * len(values),
                         "indicator": [indicator] * 2 * len(values), "value": values * 2})


def test_a_trend_of_durations_is_drawn_in_one_unit_with_hover_as_on_the_cards():
    # response time median: 95, 314.5 and 400 minutes; median 314.5 min → the axis in hours
    fig = charts.make_trend_figure(_table([95.0, 314.5, 400.0], "response_time_median"),
                                   "response_time_median", "North", target=120.0)
    north = fig.data[0]
    assert fig.layout.yaxis.title.text == "hours"
    assert list(north.y) == pytest.approx([95 / 60, 314.5 / 60, 400 / 60])
    assert list(north.customdata) == ["2025-01: 95 min", "2025-02: 5.2 h", "2025-03: 6.7 h"]
    assert fig.layout.shapes[0].y0 == pytest.approx(120 / 60)
    assert fig.layout.annotations[0].text == "Target 2.0 h"


def test_a_trend_of_money_carries_the_currency_on_the_axis_and_in_the_hover():
    fig = charts.make_trend_figure(_table([999.99, 1234.5], "revenue"), "revenue", "North",
                                   currency=EURO)
    assert fig.layout.yaxis.tickprefix == "€"
    assert list(fig.data[0].customdata) == ["2025-01: €999.99", "2025-02: €1,235"]
    coded = charts.make_trend_figure(_table([10.0], "revenue"), "revenue", "North", currency=EUR)
    assert (coded.layout.yaxis.ticksuffix, coded.layout.yaxis.title.text) == (" EUR", "EUR")


def test_ranking_labels_and_hover_are_rounded_with_their_month():
    table = pd.DataFrame({
        "month": ["2025-06"] * 3, "department": ["North", "South", "All"],
        "indicator": ["csat"] * 3, "value": [74.94, 60.0, 70.0],
    })
    fig = charts.make_ranking_figure(table, "csat", "2025-06")
    (bars,) = fig.data
    assert list(bars.text)[::-1] == ["74.9 %", "60.0 %"]
    assert list(bars.customdata)[::-1] == ["North, 2025-06: 74.9 %", "South, 2025-06: 60.0 %"]


def test_the_complaint_mix_hover_names_the_month():
    mix = pd.DataFrame({"month": ["2025-06", "2025-06"], "department": ["All", "All"],
                        "component": ["product", "people"], "complaints": [3, 1],
                        "share": [75.0, 25.0]})
    fig = charts.make_complaint_mix_figure(mix, "All")
    assert list(fig.data[0].customdata) == ["2025-06: 3 complaints (75.0 %)"]
    assert list(fig.data[1].customdata) == ["2025-06: 1 complaint (25.0 %)"]


@pytest.mark.parametrize("module", [units, fmt])
def test_the_examples_in_the_docstrings_hold(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
