"""The iceberg with its evidence on the pages (issue 20, point 2): the sentence says where the
complaints are counted, the range the evidence gives and the revenue at risk; the settings page
saves the choice.

The fixture database (``tests/app/conftest.py``): North, 2025-01 holds 1 complaint and
purchases of 10.00 and 20.50 by two customers (revenue per customer (10 + 20.5) ÷ 2 = 15.25).
A new database, so complaints are counted at the front line (×2) and 30 % leave unless set.
"""

from __future__ import annotations

import pytest

from dashboard import data, iceberg_panel
from dashboard import scorecard as sc
from dashboard.format import CURRENCY
from indicators import store, stored_indicators, units
from tests.app.conftest import stored_settings

NORTH_JANUARY = {"department": "North", "month": "2025-01"}


# --- the words --------------------------------------------------------------------------------


def test_head_office_says_the_range_the_evidence_gives():
    head = store.Settings(iceberg_counted_at="head_office")
    token = CURRENCY.set(units.Currency("€", ""))
    try:
        text = sc.iceberg_sentence(38.0, 38 * 25.0, settings=head,
                                   at_risk=38 * 25 * 30 / 100 * 144.0)
    finally:
        CURRENCY.reset(token)
    assert text == (f"38 complaints counted at head office → about {38 * 25:,} dissatisfied "
                    f"customers (between {38 * 20:,} and {38 * 100:,} on the evidence), about "
                    f"€{38 * 25 * 30 // 100 * 144:,} of revenue at risk")


def test_the_front_line_and_a_custom_factor_give_no_range():
    front = sc.iceberg_sentence(38.0, 38 * 2.0, settings=store.Settings(), at_risk=228.0)
    assert front == (f"38 complaints counted at the front line → about {38 * 2} dissatisfied "
                     f"customers, about {38 * 2 * 0.3 * 10:.2f} of revenue at risk")
    custom = store.Settings(iceberg_counted_at="custom", custom_iceberg_factor=7.0)
    assert sc.iceberg_sentence(1.0, 7.0, settings=custom, at_risk=21.0) == (
        "1 complaint → about 7 dissatisfied customers, about 21.00 of revenue at risk")


def test_revenue_at_risk_without_purchases_is_said_to_be_unknown():
    text = sc.iceberg_sentence(2.0, 4.0, settings=store.Settings(), at_risk=float("nan"))
    assert text.endswith("; revenue at risk unknown without the month's purchases")


def test_without_settings_the_sentence_is_as_before():
    assert sc.iceberg_sentence(38.0, 380.0) == "38 complaints → about 380 dissatisfied customers"


def test_the_basis_names_the_evidence_and_the_leave_share():
    head = sc.iceberg_basis(store.Settings(iceberg_counted_at="head_office",
                                           dissatisfied_leave_share=45.0))
    assert "Complaints are counted at head office" in head and "1–5 %" in head
    assert "Goodman" in head and "45 % of the dissatisfied customers" in head
    custom = sc.iceberg_basis(store.Settings(iceberg_counted_at="custom",
                                             custom_iceberg_factor=12.0))
    assert custom.startswith("Each complaint stands for about 12 dissatisfied customers")


def test_the_panel_writes_the_custom_factor_only_when_chosen():
    assert iceberg_panel.values_to_save("custom", 12.0, 40.0) == {
        "iceberg_counted_at": "custom", "iceberg_factor": 12.0, "dissatisfied_leave_share": 40.0}
    assert "iceberg_factor" not in iceberg_panel.values_to_save("head_office", 12.0, 40.0)


# --- the pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["app_pages/quality.py", "app_pages/overview.py"])
def test_the_iceberg_card_shows_head_office_with_its_range_and_the_revenue_at_risk(
        fixture_db, app, page):
    con = store.connect(fixture_db)
    try:
        store.write_setting(con, "iceberg_counted_at", "head_office")
        store.write_setting(con, "dissatisfied_leave_share", 40)
    finally:
        con.close()
    data.clear_caches()
    for key, value in NORTH_JANUARY.items():
        app.query_params[key] = value
    app.run()
    at = app.switch_page(page).run()
    assert not at.exception
    words = " ".join(m.value for m in at.markdown)
    at_risk = 1 * 25 * 40 / 100 * ((10 + 20.5) / 2)
    assert ("1 complaint counted at head office → about 25 dissatisfied customers (between "
            f"{1 * 20} and {1 * 100} on the evidence), about {at_risk:.2f} of revenue at risk"
            ) in words
    assert any("Only 1–5 %" in c.value for c in at.caption)


def test_the_settings_page_saves_where_complaints_are_counted(fixture_db, app):
    app.run()
    app.switch_page("app_pages/targets.py").run()
    assert app.radio(key="iceberg_counted_at").value == "front_line"
    assert not [n for n in app.number_input if n.key == "iceberg_factor"]  # custom only
    app.radio(key="iceberg_counted_at").set_value("head_office").run()
    app.number_input(key="dissatisfied_leave_share").set_value(40.0)
    next(b for b in app.button if b.label == "Save iceberg").click().run()
    assert not app.exception
    saved = stored_settings(fixture_db)
    assert (saved.iceberg_counted_at, saved.iceberg_factor) == ("head_office", 25)
    assert saved.dissatisfied_leave_share == 40


def test_the_settings_page_saves_a_custom_factor(fixture_db, app):
    app.run()
    app.switch_page("app_pages/targets.py").run()
    app.radio(key="iceberg_counted_at").set_value("custom").run()
    assert app.number_input(key="iceberg_factor").value == 10  # the old default, until set
    app.number_input(key="iceberg_factor").set_value(12.0)
    next(b for b in app.button if b.label == "Save iceberg").click().run()
    assert not app.exception
    saved = stored_settings(fixture_db)
    assert (saved.iceberg_counted_at, saved.iceberg_factor) == ("custom", 12)
    con = store.connect(fixture_db, read_only=True)
    try:
        assert stored_indicators.differences(con).empty
    finally:
        con.close()
