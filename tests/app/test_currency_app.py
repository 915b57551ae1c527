"""The currency setting in the app (issue 15, item 6): set on the settings page, written on every
money figure of the session, refused whole when a value breaks its rule.

The tiny database of ``tests/app/conftest.py``: in 2025-01 All's revenue is 10 + 20.5 + 5 and
its average ticket (10 + 20.5 + 5) / 3.
"""

from __future__ import annotations

import json

import pytest

from dashboard import data
from dashboard import format as fmt
from indicators import store
from tests.app.conftest import metric_values, stored_settings


def _write(db, **settings: object) -> None:
    con = store.connect(db)
    try:
        for key, value in settings.items():
            store.write_setting(con, key, value)
    finally:
        con.close()


def _january(app):
    app.run()
    app.selectbox(key="month").set_value("2025-01").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_without_a_currency_money_is_a_plain_number(fixture_db, app):
    values = metric_values(_january(app))
    assert values["Revenue"] == "35.50"  # 10 + 20.5 + 5


def test_the_symbol_goes_before_every_money_figure_of_the_scorecard(fixture_db, app):
    _write(fixture_db, currency_symbol="€")
    values = metric_values(_january(app))
    assert values["Revenue"] == "€35.50"
    assert values["Average ticket"] == f"€{(10 + 20.5 + 5) / 3:.2f}"  # €11.83
    assert values["Purchases"] == "3"  # not money: no currency
    # the pytest thread never ran the script: its money has no currency
    assert fmt.format_value(35.5, "money") == "35.50"


def test_the_code_goes_after_money_on_the_family_pages(fixture_db, app):
    _write(fixture_db, currency_code="EUR")
    _january(app).switch_page("app_pages/price.py").run()
    assert not app.exception
    # the average ticket's trend (North and All), then its ranking
    trend = json.loads(app.get("plotly_chart")[0].proto.spec)
    ranking = json.loads(app.get("plotly_chart")[1].proto.spec)
    assert trend["layout"]["yaxis"]["ticksuffix"] == " EUR"
    # North (10 + 20.5) / 2 = 15.25, South 5 / 1
    assert sorted(ranking["data"][0]["text"]) == ["15.25 EUR · n = 2", "5.00 EUR · n = 1"]


def test_an_analyst_sets_and_clears_the_currency_on_the_settings_page(fixture_db, app):
    app.run()
    app.switch_page("app_pages/targets.py").run()
    app.text_input(key="currency_symbol").set_value("€")
    app.text_input(key="currency_code").set_value("eur")  # written in capitals
    next(b for b in app.button if b.label == "Save currency").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(s.value == "Saved." for s in app.success)
    chosen = stored_settings(fixture_db)
    assert (chosen.currency_symbol, chosen.currency_code) == ("€", "EUR")

    app.text_input(key="currency_symbol").set_value("")
    next(b for b in app.button if b.label == "Save currency").click().run()
    chosen = stored_settings(fixture_db)
    assert (chosen.currency_symbol, chosen.currency_code) == ("", "EUR")


def test_a_refused_value_changes_neither_setting(fixture_db, app):
    _write(fixture_db, currency_symbol="€", currency_code="EUR")
    app.run()
    app.switch_page("app_pages/targets.py").run()
    app.text_input(key="currency_code").set_value("GBP")
    app.text_input(key="currency_symbol").set_value("<b>")  # markup: refused
    next(b for b in app.button if b.label == "Save currency").click().run()
    assert not app.exception
    assert any(e.value.startswith("Not saved") and "no markup" in e.value for e in app.error)
    chosen = stored_settings(fixture_db)
    assert (chosen.currency_symbol, chosen.currency_code) == ("€", "EUR")  # GBP not saved


def test_the_minimum_volume_is_set_on_the_settings_page(fixture_db, app):
    app.run()
    app.switch_page("app_pages/targets.py").run()
    app.number_input(key="min_volume").set_value(2)
    next(b for b in app.button if b.label == "Save minimum volume").click().run()
    assert not app.exception
    assert stored_settings(fixture_db).min_volume == 2


def test_saving_several_settings_checks_the_role(fixture_db, monkeypatch):
    from dashboard import auth

    monkeypatch.setattr(auth, "require_editor", _forbidden)
    with pytest.raises(auth.Forbidden):
        data.save_settings({"currency_code": "EUR"})
    assert stored_settings(fixture_db).currency_code == ""


def _forbidden():
    from dashboard import auth

    raise auth.Forbidden("executives never edit")
