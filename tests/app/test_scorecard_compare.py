"""Compare on the card: All's value and the department's rank, by hand on four departments.

One month (2025-03), four departments:

==========  =====================  ==========  ===================================
department  purchases (amount)     complaints  CSAT answers (satisfied = 4 or 5)
==========  =====================  ==========  ===================================
Northwind   40 × 10.00             2           30, of which 24 satisfied
Bayside     40 × 12.50             4           30, of which 27 satisfied
Cedar Hill  40 × 10.00             2           —
Dunmore      5 × 50.00             —           —
==========  =====================  ==========  ===================================

Minimum volume 30 (the default): Dunmore's 5 purchases are too few to rank it on anything it
is judged on by purchases; Cedar Hill has no CSAT, so it is not ranked on it.  Northwind and
Cedar Hill tie on revenue (400), purchases (40), complaints (2) and the complaint rate (5.0).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.scorecard import COMPARE_COLUMNS
from indicators import store, stored_indicators
from tests.app.conftest import APP

MONTH = "2025-03"
NORTHWIND, BAYSIDE, CEDAR, DUNMORE = "Northwind", "Bayside", "Cedar Hill", "Dunmore"
PURCHASES = {NORTHWIND: (40, 10.0), BAYSIDE: (40, 12.5), CEDAR: (40, 10.0), DUNMORE: (5, 50.0)}
COMPLAINTS = {NORTHWIND: 2, BAYSIDE: 4, CEDAR: 2}
CSAT = {NORTHWIND: (30, 24), BAYSIDE: (30, 27)}
LEAD = "lead.northwind@example.com"


def build_compare_db(path: Path) -> Path:
    con = store.connect(path)
    try:
        purchases, complaints, surveys = [], [], []
        for department, (n, amount) in PURCHASES.items():
            purchases += [(f"{department}-p{i}", f"2025-03-{1 + i % 28:02d} 10:00:00",
                           f"{department}-c{i}", department, amount) for i in range(n)]
        for department, n in COMPLAINTS.items():
            complaints += [(f"{department}-k{i}", f"2025-03-{10 + i:02d} 09:00:00", department)
                           for i in range(n)]
        for department, (n, satisfied) in CSAT.items():
            surveys += [(f"{department}-s{i}", f"2025-03-{1 + i % 28:02d} 12:00:00", department,
                         "csat", 5 if i < satisfied else 2) for i in range(n)]
        con.executemany(
            """INSERT INTO purchases (purchase_id, purchased_at, customer_id, department, amount,
                                      month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, DATE '2025-03-01')""", purchases)
        con.executemany(
            """INSERT INTO complaints (complaint_id, opened_at, department, month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, DATE '2025-03-01')""", complaints)
        con.executemany(
            """INSERT INTO surveys (survey_id, answered_at, department, kind, score, month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, DATE '2025-03-01')""", surveys)
        stored_indicators.rebuild(con)  # rows written by hand
    finally:
        con.close()
    return path


@pytest.fixture
def compare_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = build_compare_db(tmp_path / "compare.duckdb")
    monkeypatch.setenv(store.DB_ENV, str(path))
    data.clear_caches()
    return path


def walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def card_lines(at: AppTest) -> dict[str, list[str]]:
    """Per card (metric label), the captions drawn after its metric and before the next one."""
    lines: dict[str, list[str]] = {}
    current = None
    for node in walk(at.main):
        kind = getattr(node, "type", None)
        if kind == "metric":
            current = node.label
            lines[current] = []
        elif kind == "caption" and current is not None:
            lines[current].append(node.value)
    return lines


def open_scorecard(department: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["department"] = department
    at.query_params["month"] = MONTH
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


ALL_REVENUE = 40 * 10.0 + 40 * 12.5 + 40 * 10.0 + 5 * 50.0  # 1,550
ALL_PURCHASES = 40 + 40 + 40 + 5  # 125
ALL_COMPLAINT_RATE = (2 + 4 + 2) / ALL_PURCHASES * 100  # 6.4
ALL_CSAT = (24 + 27) / (30 + 30) * 100  # 85.0
ALL_TICKET = ALL_REVENUE / ALL_PURCHASES  # 12.40


def test_a_department_card_shows_all_and_its_rank(compare_db):
    lines = card_lines(open_scorecard(NORTHWIND))
    # Bayside's 500 first; Northwind and Cedar Hill share 2nd with 400; Dunmore (5 rows) out
    assert f"All {ALL_REVENUE:,.0f} · 2nd of 3" in lines["Revenue"]
    # three tie at 40 purchases; Dunmore is too small to rank
    assert f"All {ALL_PURCHASES} · 1st of 3" in lines["Purchases"]
    # lower is better: Northwind and Cedar Hill 2 ÷ 40 × 100 = 5.0 ahead of Bayside's 10.0
    assert f"All {ALL_COMPLAINT_RATE:.1f} · 1st of 3" in lines["Complaints per 100 purchases"]
    # 24 ÷ 30 = 80 % behind Bayside's 27 ÷ 30 = 90 %; Cedar Hill and Dunmore have no CSAT
    assert f"All {ALL_CSAT:.1f} % · 2nd of 2" in lines["Customer satisfaction (CSAT)"]
    # 10.00 behind Bayside's 12.50, tied with Cedar Hill; Dunmore's 50.00 from 5 purchases out
    assert f"All {ALL_TICKET:.2f} · 2nd of 3" in lines["Average ticket"]


def test_the_worst_department_is_last(compare_db):
    lines = card_lines(open_scorecard(BAYSIDE))
    assert f"All {ALL_COMPLAINT_RATE:.1f} · 3rd of 3" in lines["Complaints per 100 purchases"]
    assert f"All {2 + 4 + 2} · 3rd of 3" in lines["Complaints"]
    assert f"All {ALL_REVENUE:,.0f} · 1st of 3" in lines["Revenue"]


def test_a_department_without_a_value_is_not_ranked(compare_db):
    lines = card_lines(open_scorecard(CEDAR))
    assert f"All {ALL_CSAT:.1f} % · not ranked" in lines["Customer satisfaction (CSAT)"]


def test_a_department_under_the_minimum_volume_is_flagged_with_its_volume(compare_db):
    lines = card_lines(open_scorecard(DUNMORE))
    assert f"All {ALL_TICKET:.2f} · not ranked (n = 5)" in lines["Average ticket"]
    assert f"All {ALL_REVENUE:,.0f} · not ranked (n = 5)" in lines["Revenue"]


def test_with_no_minimum_volume_every_department_with_a_value_is_ranked(compare_db):
    con = store.connect(compare_db)
    try:
        store.write_setting(con, "min_volume", 0)
    finally:
        con.close()
    data.clear_caches()
    lines = card_lines(open_scorecard(DUNMORE))
    # 50.00 is the best ticket of four; 0 complaints in 5 purchases the best rate
    assert f"All {ALL_TICKET:.2f} · 1st of 4" in lines["Average ticket"]
    assert f"All {ALL_COMPLAINT_RATE:.1f} · 1st of 4" in lines["Complaints per 100 purchases"]
    lines = card_lines(open_scorecard(NORTHWIND))
    assert f"All {ALL_COMPLAINT_RATE:.1f} · 2nd of 4" in lines["Complaints per 100 purchases"]


def test_all_has_no_compare_line(compare_db):
    lines = card_lines(open_scorecard("All"))
    assert not any(" of " in line or "not ranked" in line for line in lines["Revenue"])


def test_the_scorecard_table_has_the_compare_column(compare_db):
    at = open_scorecard(NORTHWIND)
    table = at.dataframe[0].value.set_index("Indicator")
    assert table.loc["Revenue", "All and rank"] == f"All {ALL_REVENUE:,.0f} · 2nd of 3"


def test_a_team_lead_reads_the_rank_and_nothing_of_the_other_departments(compare_db):
    path, version = str(compare_db), data.data_version(compare_db)
    scoped = data._compare(path, version, (NORTHWIND,), NORTHWIND, MONTH)
    unscoped = data._compare(path, version, None, NORTHWIND, MONTH)
    assert list(scoped.columns) == list(COMPARE_COLUMNS)  # no department column
    assert scoped.equals(unscoped)
    revenue = scoped.set_index("indicator").loc["revenue"]
    assert (revenue["rank"], revenue["ranked_of"]) == (2.0, 3)
    # no other department's value: Bayside's 500, Dunmore's 250 appear nowhere
    assert not scoped.isin([500.0, 250.0, 12.5, 90.0]).any().any()
    with pytest.raises(data.auth.Forbidden):
        data._compare(path, version, (NORTHWIND,), BAYSIDE, MONTH)


def test_a_team_lead_sees_the_rank_on_the_card(compare_db):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = json.loads(json.dumps({
        "auth": {
            "redirect_uri": "http://localhost:8501/oauth2callback",
            "cookie_secret": "a-test-secret-that-is-long-enough",
            "client_id": "test-client",
            "client_secret": "test-secret",
            "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
        },
        "roles": {LEAD: {"role": "team_lead", "departments": [NORTHWIND]}},
    }))
    at.user = {"is_logged_in": True, "email": LEAD, "email_verified": True}
    at.query_params["department"] = NORTHWIND
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"All {ALL_REVENUE:,.0f} · 2nd of 3" in card_lines(at)["Revenue"]
    shown = "\n".join(str(getattr(n, "proto", "")) for root in (at.main, at.sidebar)
                      for n in walk(root))
    for other in (BAYSIDE, CEDAR, DUNMORE):
        assert other not in shown


# --- "— not loaded" on the card ---------------------------------------------------------------


@pytest.fixture
def partial_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The conftest database plus one North purchase (15.00) in 2025-03, and nothing else then:
    North delivered complaints (2025-01, 2025-02) and surveys (2025-01) before, so in 2025-03
    both are not loaded — for North, and for All (South had no rows since 2025-01, so it no
    longer counts for All)."""
    from tests.app.conftest import build_fixture_db

    path = build_fixture_db(tmp_path / "partial.duckdb")
    con = store.connect(path)
    try:
        con.execute(
            """INSERT INTO purchases (purchase_id, purchased_at, customer_id, department, amount,
                                      month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, DATE '2025-03-01')""",
            ["p7", "2025-03-04 10:00:00", "c1", "North", 15.0],
        )
        stored_indicators.rebuild(con)  # rows written by hand
    finally:
        con.close()
    monkeypatch.setenv(store.DB_ENV, str(path))
    data.clear_caches()
    return path


def test_a_dataset_not_loaded_shows_not_loaded_never_a_zero(partial_db):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["department"] = "North"
    at.query_params["month"] = "2025-03"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m for m in at.metric}
    for label in ("Complaints", "Complaints per 100 purchases", "Estimated dissatisfied customers",
                  "Customer satisfaction (CSAT)"):
        assert metrics[label].value == "— not loaded", label
        assert metrics[label].delta in (None, ""), label  # no change, so nothing green or red
    assert metrics["Purchases"].value == "1"
    assert metrics["Purchases"].delta == f"-{3 - 1}"
    iceberg = " ".join(m.value for m in at.markdown)
    assert "Complaints not loaded" in iceberg and "0 complaints" not in iceberg
    lines = card_lines(at)
    assert "All not loaded · not ranked" in lines["Complaints"]
    # South stopped delivering: it has not loaded purchases in 2025-03 and is not ranked;
    # North's one purchase is under the minimum volume
    assert f"All {15:.2f} · not ranked (n = 1)" in lines["Revenue"]
