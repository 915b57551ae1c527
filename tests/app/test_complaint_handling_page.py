"""Complaint handling on the opportunity page (issue 20): the backlog at the month's end and the
share resolved within the promise, in words; the settings page saves the complaint promise, the
holidays and the first-contact days.

The database: North's complaints (UTC).  k1 opened Friday 2025-01-03 10:00 and resolved Wednesday
01-08 (3 business days: within the default promise); k2 opened 01-10 and still open; k3 opened
2024-12-01 and resolved 2025-02-10 (open at January's end).  At the end of January (2025-02-01
00:00) k2 has been open 22 days and k3 62 days.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import data
from tests.app.conftest import stored_settings, use_database
from tests.indicators.engine_rows import complaint, make_db, purchase


@pytest.fixture
def complaints_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = make_db(tmp_path / "complaints.duckdb", {
        "purchases": [purchase("p1", "2025-01-05 10:00", "c1", "North", 10)],
        "complaints": [
            complaint("k1", "2025-01-03 10:00", "North", resolved="2025-01-08 17:00"),
            complaint("k2", "2025-01-10 00:00", "North"),
            complaint("k3", "2024-12-01 00:00", "North", resolved="2025-02-10 00:00"),
        ],
    })
    use_database(db, monkeypatch)
    data.clear_caches()
    return db


def test_the_opportunity_page_says_the_backlog_and_the_promise(complaints_db, app):
    app.query_params["department"] = "North"
    app.query_params["month"] = "2025-01"
    app.run()
    at = app.switch_page("app_pages/opportunity.py").run()
    assert not at.exception
    words = " ".join(m.value for m in at.markdown)
    median = (22 + (31 + 31)) / 2  # k2 22 days, k3 62 days
    assert (f"At the end of 2025-01, **2** complaints were open; the median one had been open "
            f"**{median:.1f} days**, and **{1 / 2 * 100:.1f} %** were older than 8 weeks."
            ) in words
    # k1 within 3 business days, k2 open: 1 of January's 2 complaints (k3 is December's)
    assert (f"**{1 / 2 * 100:.1f} %** of 2025-01's complaints were resolved within the promise "
            "of 3 business days.") in words


def test_the_settings_page_saves_the_complaint_settings(complaints_db, app):
    app.run()
    app.switch_page("app_pages/targets.py").run()
    app.selectbox(key="complaint-scope").set_value("North").run()
    app.number_input(key="complaint-days").set_value(2)
    next(b for b in app.button if b.label == "Save complaint promise").click().run()
    app.text_area(key="holidays").set_value("2025-01-06, 2025-01-01")
    next(b for b in app.button if b.label == "Save holidays").click().run()
    app.number_input(key="fcr-days").set_value(10)
    next(b for b in app.button if b.label == "Save first-contact days").click().run()
    assert not app.exception
    saved = stored_settings(complaints_db)
    assert saved.complaint_promise_for("North") == 2 and saved.complaint_promise_for("South") == 3
    assert [d.isoformat() for d in saved.holidays] == ["2025-01-01", "2025-01-06"]
    assert saved.fcr_days == 10


def test_a_holiday_that_is_not_a_date_is_refused_and_nothing_saved(complaints_db, app):
    app.run()
    app.switch_page("app_pages/targets.py").run()
    app.text_area(key="holidays").set_value("2025-01-06, next monday")
    next(b for b in app.button if b.label == "Save holidays").click().run()
    assert any("'next monday' is not one" in e.value for e in app.error)
    assert stored_settings(complaints_db).holidays == ()
