"""AppTest: unusual values stand out by themselves (issue 19, part 3) — on the scorecard card
(its reason in a line, a halo on the sparkline's month), in the scorecard's table, and on the
family page's trend (a marker with the reason).

North's purchases: 40 in 2024-01, then 40, 41, 39, 40, 42, 38, 40, 41, 39, 40, 40, 41 in
2024-02 … 2025-01, then 80 in 2025-02.  February 2025 has one earlier February only, so its
reference is the trailing 12 months: median 40, absolute deviations 0 ×5, 1 ×5, 2 ×2 → MAD 1;
score (80 − 40) ÷ 1 = 40 MAD, far above the default 5; 80 rows ≥ the minimum volume 30.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from indicators import months, store, stored_indicators
from tests.app.conftest import APP, use_database

COUNTS = [40, 40, 41, 39, 40, 42, 38, 40, 41, 39, 40, 40, 41, 80]
MONTHS = months.span("2024-01", "2025-02")


@pytest.fixture
def odd_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "odd.duckdb"
    con = store.connect(path)
    try:
        rows = [(f"p{m}-{i}", f"{m}-05 10:00:00", f"c{i}", "North", 10.0, f"{m}-01")
                for m, n in zip(MONTHS, COUNTS, strict=True) for i in range(n)]
        con.executemany(
            """INSERT INTO purchases (purchase_id, purchased_at, customer_id, department, amount,
                                      month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, CAST(? AS DATE))""", rows)
        stored_indicators.rebuild(con)
    finally:
        con.close()
    return use_database(path, monkeypatch)


def test_the_card_says_why_its_value_is_unusual(odd_db):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["month"] = "2025-02"
    at.query_params["department"] = "North"
    at.run()
    captions = [c.value for c in at.caption if "Unusual:" in c.value]
    reason = "highest in 14 months; 40.0 MAD above the usual of the last 12 months"
    assert any(reason in c.replace("\u2060", "").replace("\\", "") for c in captions), captions
    table = at.dataframe[0].value
    row = table[table["Indicator"] == "Purchases"].iloc[0]
    assert row["Unusual"] == reason
    # the value one month earlier, 41, is usual: its card (January) has no flag
    at.selectbox(key="month").set_value("2025-01").run()
    assert not [c for c in at.caption if "Unusual:" in c.value and "Purchases" in c.value]
    table = at.dataframe[0].value
    assert "Unusual" not in table.columns or table[table["Indicator"] == "Purchases"][
        "Unusual"].isna().all()


def test_the_trend_marks_the_unusual_month(odd_db):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["month"] = "2025-02"
    at.query_params["department"] = "North"
    at.run()
    at.switch_page("app_pages/quantity.py").run()
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    marks = [trace for spec in specs for trace in spec["data"] if trace.get("name") == "Unusual"]
    assert marks, "no unusual marker on the purchases trend"
    assert marks[0]["x"] == ["2025-02-01"]
    assert "40.0 MAD above" in marks[0]["customdata"][0]


def test_below_the_minimum_volume_nothing_is_flagged(odd_db):
    con = store.connect(odd_db)
    try:
        store.write_setting(con, "min_volume", 81)  # February's 80 purchases are too few now
    finally:
        con.close()
    data.clear_caches()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["month"] = "2025-02"
    at.query_params["department"] = "North"
    at.run()
    table = at.dataframe[0].value
    assert "Unusual" not in table.columns or table[table["Indicator"] == "Purchases"][
        "Unusual"].isna().all()
