"""AppTest: every page runs on a tiny database, and the numbers shown are the hand-worked ones."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dashboard import data
from indicators import store, stored_indicators
from tests.app.conftest import metric_values

PAGES = [
    "app_pages/overview.py",
    "app_pages/quality.py",
    "app_pages/quantity.py",
    "app_pages/opportunity.py",
    "app_pages/price.py",
    "app_pages/route.py",
    "app_pages/explain.py",
    "app_pages/chain.py",
    "app_pages/records.py",
    "app_pages/upload.py",
    "app_pages/targets.py",
]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_an_exception(fixture_db, app, page):
    app.run()
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title, "every page has a title"


def test_defaults_are_all_departments_and_the_latest_complete_month(fixture_db, app):
    # 2025-02 is incomplete (North has no surveys, South no purchases): 2025-01 is the default.
    app.run()
    assert app.selectbox(key="department").value == "All"
    assert app.selectbox(key="month").value == "2025-01"
    assert app.query_params["department"] == "All"
    assert app.query_params["month"] == "2025-01"


def test_scorecard_for_all_in_january(fixture_db, app):
    app.run()
    app.selectbox(key="month").set_value("2025-01").run()
    values = metric_values(app)
    assert values["Revenue"] == f"{10 + 20.5 + 5:,.2f}"  # 35.50
    assert values["Purchases"] == "3"
    assert values["Complaints per 100 purchases"] == f"{1 / 3 * 100:.1f}"  # 33.3
    assert values["Customer satisfaction (CSAT)"] == f"{2 / 3 * 100:.1f} %"  # 66.7 %
    assert values["Average ticket"] == f"{(10 + 20.5 + 5) / 3:,.2f}"  # 11.83


def test_changing_department_and_month_changes_the_numbers(fixture_db, app):
    app.run()
    app.selectbox(key="department").set_value("North").run()
    app.selectbox(key="month").set_value("2025-01").run()
    assert not app.exception
    values = metric_values(app)
    assert values["Revenue"] == f"{10 + 20.5:,.2f}"  # 30.50
    assert values["Complaints per 100 purchases"] == f"{1 / 2 * 100:.1f}"  # 50.0

    app.selectbox(key="month").set_value("2025-02").run()
    values = metric_values(app)
    assert values["Revenue"] == f"{30 + 12 + 8:,.2f}"  # 50.00
    assert values["Complaints per 100 purchases"] == f"{1 / 3 * 100:.1f}"  # 33.3
    revenue = next(m for m in app.metric if m.label == "Revenue")
    assert revenue.delta == f"+{(30 + 12 + 8) - (10 + 20.5):,.2f}"  # +19.50
    assert app.query_params["department"] == "North"


def test_a_month_without_surveys_shows_csat_missing_not_zero(fixture_db, app):
    app.run()
    app.selectbox(key="department").set_value("North").run()
    app.selectbox(key="month").set_value("2025-02").run()
    csat = next(m for m in app.metric if m.label == "Customer satisfaction (CSAT)")
    # North's surveys came in 2025-01 and none in 2025-02: an incomplete month, not a 0
    assert csat.value == "— not loaded"
    assert csat.delta in (None, "")


def test_the_target_and_its_status_appear_beside_the_indicator(fixture_db, app):
    app.run()
    app.selectbox(key="department").set_value("North").run()
    app.selectbox(key="month").set_value("2025-01").run()
    captions = [c.value for c in app.caption]
    assert any("Target 70.0 % by 2025-03" in c for c in captions), captions


def test_filters_survive_navigation(fixture_db, app):
    app.run()
    app.selectbox(key="department").set_value("South").run()
    app.switch_page("app_pages/price.py").run()
    assert app.selectbox(key="department").value == "South"
    assert not app.exception


def test_a_shared_link_opens_the_same_view(fixture_db, app):
    app.query_params["department"] = "North"
    app.query_params["month"] = "2025-01"
    app.run()
    assert app.selectbox(key="department").value == "North"
    assert app.selectbox(key="month").value == "2025-01"
    assert metric_values(app)["Revenue"] == f"{10 + 20.5:,.2f}"


def test_an_unknown_department_in_the_link_falls_back_with_a_warning(fixture_db, app):
    app.query_params["department"] = "Atlantis"
    app.query_params["month"] = "1999-13"
    app.run()
    assert not app.exception
    assert app.selectbox(key="department").value == "All"
    assert app.selectbox(key="month").value == "2025-01"  # the latest complete month
    warnings = " ".join(w.value for w in app.warning)
    assert "Atlantis" in warnings and "1999\\-13" in warnings  # shown as text: '-' escaped


def test_a_link_cannot_put_markdown_into_the_warning(fixture_db, app):
    app.query_params["department"] = "[click](http://evil.example)"
    app.run()
    warnings = " ".join(w.value for w in app.warning)
    assert "\\[click\\]\\(http" in warnings


@pytest.mark.parametrize("page", PAGES)
def test_no_database_file_shows_how_to_load_data(tmp_path, monkeypatch, app, page):
    monkeypatch.setenv(store.DB_ENV, str(tmp_path / "nothing-here.duckdb"))
    app.run()
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    if page not in ("app_pages/upload.py", "app_pages/targets.py"):
        assert any("no data" in i.value for i in app.info)
        assert any("python -m indicators" in c.value for c in app.code)


def test_an_empty_database_shows_how_to_load_data(tmp_path, monkeypatch, app):
    path = tmp_path / "empty.duckdb"
    store.connect(path).close()
    monkeypatch.setenv(store.DB_ENV, str(path))
    app.run()
    assert not app.exception
    assert any("no data" in i.value for i in app.info)


def test_department_names_are_shown_as_text_not_markdown(tmp_path, monkeypatch, app):
    from tests.app.conftest import build_fixture_db

    path = build_fixture_db(tmp_path / "odd.duckdb")
    con = store.connect(path)
    con.execute("UPDATE purchases SET department = ? WHERE department = ?",
                ["[click](http://evil.example) **x**", "South"])
    stored_indicators.rebuild(con)  # a write by hand: the stored tables follow it
    con.close()
    monkeypatch.setenv(store.DB_ENV, str(path))
    app.run()
    app.selectbox(key="department").set_value("[click](http://evil.example) **x**").run()
    assert not app.exception
    caption = app.caption[0].value
    assert "\\[click\\]" in caption and "\\*\\*x\\*\\*" in caption


def test_saving_targets_validates_the_whole_table(fixture_db):
    bad = pd.DataFrame({
        "indicator": ["no_such_indicator"], "department": ["North"],
        "baseline_month": ["2025-01"], "target_month": ["2025-03"], "target": [1.0],
    })
    result = data.save_targets(bad)
    assert not result.accepted
    assert any(p.column == "indicator" for p in result.problems)
    con = store.connect(fixture_db, read_only=True)
    assert len(store.read_targets(con)) == 1  # the stored target is untouched
    con.close()

    late = bad.assign(indicator=["csat"], baseline_month=["2025-04"])
    assert not data.save_targets(late).accepted

    good = bad.assign(indicator=["csat"])
    assert data.save_targets(good).accepted


def test_setting_errors_are_refused(fixture_db):
    with pytest.raises(store.SettingError):
        data.save_setting("iceberg_factor", "-3")
    with pytest.raises(store.SettingError):
        data.save_setting("time_zone", "Mars/Olympus")
    data.save_setting("iceberg_factor", "12")
    con = store.connect(Path(fixture_db), read_only=True)
    assert store.read_settings(con).custom_iceberg_factor == 12.0
    con.close()


def test_the_route_card_shows_the_actual_once_the_target_month_has_data(fixture_db, app):
    """CSAT's target month (2025-03) lies past the data: projected. A purchases target for
    North by 2025-02 has its target month in the data: the card shows what happened."""
    con = store.connect(fixture_db)
    try:
        con.execute(
            """INSERT INTO targets (indicator, department, baseline_month, target_month, target)
               VALUES ('purchases', 'North', DATE '2025-01-01', DATE '2025-02-01', 4)"""
        )
    finally:
        con.close()
    data.clear_caches()
    app.run()
    app.switch_page("app_pages/route.py").run()
    assert not app.exception
    values = metric_values(app)
    assert values["Actual in 2025-02, the target month"] == "3"  # North bought 3 times then
    assert "Projected for 2025-03" in values and "Latest (2025-01)" in values  # the CSAT target
    # the measured target month is shown once, not again as "latest" or as a projection
    assert "Projected for 2025-02" not in values and "Latest (2025-02)" not in values


def _chart(app, i: int) -> dict:
    return json.loads(app.get("plotly_chart")[i].proto.spec)


def test_a_family_page_draws_only_the_open_indicator_tab(fixture_db, app):
    """Two charts per indicator would be eighteen on Quantity: only the open tab draws its trend
    and its ranking; choosing another tab draws that one's."""
    from indicators import catalog

    app.run()
    app.switch_page("app_pages/quantity.py").run()
    assert not app.exception, [e.value for e in app.exception]
    labels = [catalog.get(i).label for i in ("purchases", "revenue")]
    assert [t.label for t in app.tabs][:2] == labels
    assert len(app.get("plotly_chart")) == 2  # purchases' trend and ranking
    bars = _chart(app, 1)["data"][0]
    assert dict(zip(bars["y"], bars["x"], strict=True)) == {"North": 2, "South": 1}
    app.session_state["over-time-quantity"] = labels[1]
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(app.get("plotly_chart")) == 2  # now revenue's, and no longer purchases'
    bars = _chart(app, 1)["data"][0]
    assert dict(zip(bars["y"], bars["x"], strict=True)) == {"North": 10.0 + 20.5, "South": 5.0}


def test_route_pictures_below_the_first_cards_are_drawn_when_opened(fixture_db, app):
    """Three targets: the first two cards draw their picture (the page's PICTURES_DRAWN), the
    third an expander that draws it once opened."""
    con = store.connect(fixture_db)
    try:
        con.executemany(
            """INSERT INTO targets (indicator, department, baseline_month, target_month, target)
               VALUES (?, 'North', DATE '2025-01-01', DATE '2025-06-01', ?)""",
            [("purchases", 4.0), ("revenue", 60.0)],
        )
    finally:
        con.close()
    data.clear_caches()
    app.run()
    app.switch_page("app_pages/route.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(app.get("plotly_chart")) == 2
    # each card has its story's expander too; one picture's expander, the third card's
    (closed,) = [e for e in app.expander if e.label == "The route in a picture"]
    (key,) = [k for k in (f"picture-route-{i}-North" for i in ("csat", "purchases", "revenue"))
              if k in app.session_state]  # the third card's, whichever the order puts third
    assert app.session_state[key] is False
    app.session_state[key] = True
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(app.get("plotly_chart")) == 3
    assert json.loads(app.get("plotly_chart")[2].proto.spec)["data"]
