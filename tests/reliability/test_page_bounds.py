"""Pages stay bounded past a size: a ranking chart draws at most ``family.MAX_RANKED`` departments.

After a file with 200,000 departments (swapped columns) the Quantity page did not finish: each
of its nine ranking charts had a bar per department.  Now a ranking draws the best and the worst
half of the bound (and the chosen department) and says how many it leaves out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data, family
from indicators import catalog, store
from tests.reliability.procs import ingest_now, purchases_csv

ROOT = Path(__file__).resolve().parents[2]
DEPARTMENTS = 250


@pytest.fixture(autouse=True)
def no_secrets_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.runtime.secrets import secrets_singleton

    monkeypatch.setattr(secrets_singleton, "_secrets", {})


def test_the_quantity_page_draws_at_most_the_bound_and_says_how_many_are_hidden(
    tmp_path, monkeypatch
):
    # Department d<i> has one purchase of i + 1 in 2025-01: by revenue d249 is the best, d000
    # the worst.
    rows = [
        (f"p{i}", "2025-01-05T10:00:00", f"c{i}", f"d{i:03d}", float(i + 1))
        for i in range(DEPARTMENTS)
    ]
    db = tmp_path / "service.duckdb"
    ingest_now(db, purchases_csv(tmp_path / "many.csv", rows))
    con = store.connect(db)
    store.write_setting(con, "min_volume", 0)  # one purchase each: rank them all
    con.close()
    monkeypatch.setenv(store.DB_ENV, str(db))
    data.clear_caches()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("app_pages/quantity.py").run()
    assert not at.exception, [e.value for e in at.exception]
    # By default a ranking draws the best and the worst TOP_N; "show every department" the bound.
    at.toggle(key="show-all-quantity").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    at.session_state["over-time-quantity"] = catalog.get("revenue").label  # revenue's tab
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # only the open tab draws: revenue's trend and ranking
    ranking = json.loads(at.get("plotly_chart")[1].proto.spec)
    bars = ranking["data"][0]["y"]
    assert len(bars) == family.MAX_RANKED == 200
    # best first, drawn from the bottom: d249 … d150 and d099 … d000; d100 … d149 are hidden
    expected = [f"d{i:03d}" for i in range(249, 149, -1)] + [f"d{i:03d}" for i in range(99, -1, -1)]
    assert bars == expected[::-1]
    captions = " ".join(str(c.value) for c in at.caption)
    assert "50 of 250 departments are not drawn" in captions


def test_ranking_rows_keep_the_best_the_worst_the_chosen_one_and_all(monkeypatch):
    monkeypatch.setattr(family, "MAX_RANKED", 2)
    table = pd.DataFrame({
        "month": ["2025-01"] * 6 + ["2025-02"],
        "department": ["All", "a", "b", "c", "d", "e", "a"],
        "indicator": ["csat"] * 7,
        "value": [3.0, 1.0, 5.0, float("nan"), 2.0, 4.0, 9.0],
    })
    shown, hidden, total = family.ranking_rows(table, "csat", "2025-01", highlight="d")
    # csat: higher is better; b (5) best, a (1) worst with a value; d chosen; c has no value
    assert sorted(shown["department"]) == ["All", "a", "b", "d"]
    assert (hidden, total) == (2, 5)
    unchanged, none_hidden, one = family.ranking_rows(table, "csat", "2025-02", highlight="a")
    assert list(unchanged["department"]) == ["a"] and (none_hidden, one) == (0, 1)
