"""AppTest: a partial month does not become the default, is labelled, and every page says when
data last arrived.

The database is loaded the way an analyst loads it (files through ``ingest``, so the upload log
has the loads):

========  ==========  ===============  ================
month     department  purchases        complaints
========  ==========  ===============  ================
2025-01   North       2                1
2025-01   South       1                1
2025-02   North       2                1
2025-02   South       1                1
2025-03   North       1 (later file)   —
========  ==========  ===============  ================

By the rules of :mod:`indicators.completeness` (no department reaches 30 rows, so both count
for All): 2025-01 and 2025-02 are complete; in 2025-03 North lacks complaints and South, which
delivered in 2025-02, lacks purchases and complaints — so All's 2025-03 is incomplete with
"purchases and complaints not yet loaded for 2025-03 (North and South)".
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.format import md_text
from indicators import ingest, store
from tests.app.conftest import APP
from tests.app.test_roles import LEAD_NORTH, SECRETS, as_user

PURCHASES = (
    "purchase_id,purchased_at,customer_id,department,amount\n"
    "p1,2025-01-05T10:00:00,c1,North,10\n"
    "p2,2025-01-06T10:00:00,c2,North,20\n"
    "p3,2025-01-07T10:00:00,c3,South,5\n"
    "p4,2025-02-05T10:00:00,c1,North,30\n"
    "p5,2025-02-06T10:00:00,c4,North,12\n"
    "p6,2025-02-07T10:00:00,c3,South,7\n"
)
COMPLAINTS = (
    "complaint_id,opened_at,department\n"
    "k1,2025-01-10T08:00:00,North\n"
    "k2,2025-01-11T08:00:00,South\n"
    "k3,2025-02-10T08:00:00,North\n"
    "k4,2025-02-11T08:00:00,South\n"
)
PARTIAL = (
    "purchase_id,purchased_at,customer_id,department,amount\n"
    "p7,2025-03-03T10:00:00,c1,North,4\n"
)
ALL_MISSING = "purchases and complaints not yet loaded for 2025-03 (North and South)"
NORTH_MISSING = "complaints not yet loaded for 2025-03"
PAGES = ("app_pages/overview.py", "app_pages/quality.py", "app_pages/quantity.py",
         "app_pages/opportunity.py", "app_pages/price.py", "app_pages/route.py",
         "app_pages/upload.py", "app_pages/targets.py")


def load(db: Path, tmp: Path, name: str, text: str) -> None:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    con = store.connect(db)
    try:
        assert ingest.ingest_file(con, path, user="test").accepted
    finally:
        con.close()


@pytest.fixture
def partial_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "partial.duckdb"
    load(db, tmp_path, "purchases.csv", PURCHASES)
    load(db, tmp_path, "complaints.csv", COMPLAINTS)
    load(db, tmp_path, "march.csv", PARTIAL)
    monkeypatch.setenv(store.DB_ENV, str(db))
    data.clear_caches()
    return db


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def incomplete(text: str) -> str:
    """The page's warning for an incomplete month (department names are escaped as text)."""
    return f"Incomplete month: {md_text(text)}. Its figures may change when the rest arrives."


def last_loads(db: Path) -> str:
    """The freshness line, from the upload log: the latest accepted load of each dataset."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT dataset, max(uploaded_at) FROM upload_log WHERE outcome = 'accepted' "
            "GROUP BY dataset"
        ).fetchall()
    finally:
        con.close()
    when = dict(rows)
    shown = [f"{name} {when[name].day} {when[name]:%b %Y}" for name in ("purchases", "complaints")]
    return f"Last loads: {shown[0]} · {shown[1]}."


def test_the_partial_month_is_not_the_default(partial_db, app):
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="department").value == "All"
    assert app.selectbox(key="month").value == "2025-02"
    assert app.query_params["month"] == "2025-02"
    assert not any(w.startswith("Incomplete month") for w in warnings(app))


def test_the_partial_month_is_labelled_in_the_month_list(partial_db, app):
    app.run()
    assert app.selectbox(key="month").options == ["2025-03 · incomplete", "2025-02", "2025-01"]
    # for North alone too: it lacks complaints in 2025-03
    app.selectbox(key="department").set_value("North").run()
    assert app.selectbox(key="month").options[0] == "2025-03 · incomplete"
    assert app.selectbox(key="month").value == "2025-02"  # the choice made stays


def test_chosen_it_says_what_is_missing_and_shows_not_loaded(partial_db, app):
    app.run()
    app.selectbox(key="month").set_value("2025-03").run()
    assert not app.exception
    assert incomplete(ALL_MISSING) in warnings(app)
    app.selectbox(key="department").set_value("North").run()
    assert incomplete(NORTH_MISSING) in warnings(app)
    values = {m.label: m.value for m in app.metric}
    assert values["Purchases"] == "1"  # the one March purchase of North
    assert values["Complaints"] == "— not loaded"  # never a 0 coloured as a change


def test_the_family_table_leaves_not_loaded_cells_empty_never_0(partial_db, app):
    app.switch_page("app_pages/quantity.py").run()
    app.selectbox(key="month").set_value("2025-03").run()
    assert not app.exception, [e.value for e in app.exception]
    month = next(d.value for d in app.dataframe if "complaints" in d.value.columns)
    month = month.data if hasattr(month, "data") else month  # a Styler when highlighted
    rows = month.set_index("department")
    # North: its one March purchase (p7) counts; its complaints file has not arrived.
    assert rows.at["North", "purchases"] == 1
    assert pd.isna(rows.at["North", "complaints"])
    # South delivered nothing in March: both are "not loaded", not 0.
    assert pd.isna(rows.at["South", "purchases"]) and pd.isna(rows.at["South", "complaints"])
    assert pd.isna(rows.at["All", "complaints"])
    assert any(c.startswith("— not loaded: empty cells of All, North, South") for c in captions(app))


def test_a_link_to_the_partial_month_still_opens_it(partial_db, app):
    app.query_params["month"] = "2025-03"
    app.query_params["department"] = "North"
    app.run()
    assert app.selectbox(key="month").value == "2025-03"
    assert incomplete(NORTH_MISSING) in warnings(app)


def test_a_department_opens_on_its_own_latest_complete_month(partial_db, tmp_path, app):
    # South's 2025-03 purchases and complaints arrive: South is complete, North still lacks
    # complaints, so All too; a link naming South alone opens on 2025-03.
    load(partial_db, tmp_path, "south.csv",
         "purchase_id,purchased_at,customer_id,department,amount\n"
         "p8,2025-03-04T10:00:00,c3,South,6\n")
    load(partial_db, tmp_path, "south-k.csv",
         "complaint_id,opened_at,department\nk5,2025-03-09T08:00:00,South\n")
    app.query_params["department"] = "South"
    app.run()
    assert app.selectbox(key="month").value == "2025-03"
    fresh = AppTest.from_file(APP, default_timeout=60).run()
    assert fresh.selectbox(key="month").value == "2025-02"
    assert incomplete("complaints not yet loaded for 2025-03 (North)") in [
        w.value for w in fresh.selectbox(key="month").set_value("2025-03").run().warning
    ]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_when_data_last_arrived(partial_db, app, page):
    app.run()
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    assert last_loads(partial_db) in captions(app)


def test_the_route_page_labels_an_incomplete_month_too(partial_db, app):
    app.run()
    app.selectbox(key="month").set_value("2025-03").run()
    app.switch_page("app_pages/route.py").run()
    assert incomplete(ALL_MISSING) in warnings(app)


def test_an_analyst_marks_the_month_complete_and_a_new_visit_opens_on_it(partial_db, app):
    app.run()
    app.switch_page("app_pages/upload.py").run()
    entry = app.selectbox(key="months-panel-entry")
    # newest first, All first: 2025-03 All, then North, then South
    assert entry.options == [
        f"2025-03 · All (every department) — {ALL_MISSING}",
        f"2025-03 · North — {NORTH_MISSING}",
        "2025-03 · South — purchases and complaints not yet loaded for 2025-03",
    ]
    app.button(key="months-panel-mark").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert [s.value for s in app.success] == ["2025-03 All: marked complete."]
    # the panel is redrawn with the mark: marking All marks every department
    assert app.selectbox(key="months-panel-entry").options == [
        "2025-03 · All (every department) — marked complete by hand",
        "2025-03 · North — marked complete by hand",
        "2025-03 · South — marked complete by hand",
    ]
    assert app.button(key="months-panel-mark").label == "Remove the mark"
    con = duckdb.connect(str(partial_db), read_only=True)
    try:
        marks = con.execute("SELECT month, department, marked_by FROM complete_months").fetchall()
    finally:
        con.close()
    assert marks == [(date(2025, 3, 1), "*", "local")]

    fresh = AppTest.from_file(APP, default_timeout=60).run()
    assert fresh.selectbox(key="month").value == "2025-03"
    assert fresh.selectbox(key="month").options[0] == "2025-03"
    assert "2025-03 was marked complete by an analyst." in captions(fresh)

    app.button(key="months-panel-mark").click().run()
    assert [s.value for s in app.success] == ["2025-03 All: no longer marked complete."]
    assert AppTest.from_file(APP, default_timeout=60).run().selectbox(key="month").value == (
        "2025-02"
    )


def test_the_expected_datasets_setting_changes_what_is_missing(partial_db, app):
    app.run()
    app.switch_page("app_pages/upload.py").run()
    app.selectbox(key="months-panel-department").set_value("North").run()
    app.multiselect(key="months-panel-expected-North").set_value(["purchases"]).run()
    app.button(key="months-panel-save-expected").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert data.settings().expected_datasets == {"North": ("purchases",)}
    # North now expects purchases only: its 2025-03 is complete; South still holds All back
    labels = app.selectbox(key="months-panel-entry").options
    assert not any(" · North — " in label for label in labels)
    assert labels[0] == (
        "2025-03 · All (every department) — "
        "purchases and complaints not yet loaded for 2025-03 (South)"
    )
    # emptied again: the datasets North delivered before are expected again
    app.multiselect(key="months-panel-expected-North").set_value([]).run()
    app.button(key="months-panel-save-expected").click().run()
    assert data.settings().expected_datasets == {}


def test_a_team_lead_reads_other_departments_not_their_names(partial_db):
    at = as_user(LEAD_NORTH)
    at.query_params["month"] = "2025-03"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert incomplete("purchases and complaints not yet loaded for 2025-03 "
                      "(North and other departments)") in warnings(at)
    assert not any("South" in w for w in warnings(at))


def _try_to_mark() -> None:
    """An AppTest script: try to mark a month complete and say what happened."""
    import streamlit as st

    from dashboard import auth, data

    try:
        data.mark_month_complete("2025-03", "*", True)
    except auth.Forbidden:
        st.text("forbidden")
    else:
        st.text("done")


@pytest.mark.parametrize("email", ["ceo@example.com", LEAD_NORTH])
def test_only_analysts_may_mark_a_month(partial_db, email):
    before = partial_db.read_bytes()
    at = AppTest.from_function(_try_to_mark, default_timeout=60)
    at.secrets = json.loads(json.dumps(SECRETS))
    at.user = {"is_logged_in": True, "email": email, "email_verified": True}
    at.run()
    assert [t.value for t in at.text] == ["forbidden"]
    assert partial_db.read_bytes() == before


def test_a_team_leads_completeness_holds_no_other_departments_name(partial_db):
    status = data.status_in_scope(data._month_status(*data._key()), ("North",))
    assert set(status["department"]) == {"All", "North"}
    assert "South" not in str(status.to_dict("records"))
    march = status[(status["month"] == "2025-03") & (status["department"] == "All")]
    assert march["incomplete_departments"].tolist() == [("North", "other departments")]


def test_the_docstring_examples_hold():
    import doctest

    from dashboard import filters, months_panel, widgets

    for module in (filters, months_panel, widgets, data):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__
