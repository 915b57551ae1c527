"""Many departments (issue 15, items 5 and 7) on the Price page, by hand.

25 departments in 2025-01: ``d01`` … ``d24`` with 30 purchases each of ``i`` (``d07``: 7.00),
so the average ticket ranks ``d24`` best and ``d01`` worst; ``Tiny`` with 4 purchases of 100 —
the best average ticket of all, but 4 rows, under the default minimum volume of 30: listed,
never ranked.  Customers: in ``d01`` … ``d12`` one customer makes all 30 purchases (revenue
per customer ``30 × i``), in ``d13`` … ``d24`` each purchase is its own customer (``i``), so
ranking by revenue per customer gives another order: ``d12`` (360) … ``d01`` (30), ``d24``
(24) … ``d13`` (13).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import family, filters
from indicators import store
from tests.app.conftest import APP
from tests.indicators.engine_rows import make_db, purchase

NAMED = [f"d{i:02d}" for i in range(1, 25)]


def _purchases() -> list[dict[str, object]]:
    rows = []
    for i, name in enumerate(NAMED, start=1):
        for j in range(30):
            customer = f"{name}-c" if i <= 12 else f"{name}-c{j}"
            rows.append(purchase(f"{name}-{j}", f"2025-01-{j % 28 + 1:02d} 10:00", customer, name,
                                 float(i)))
    rows += [purchase(f"t{j}", "2025-01-10 10:00", f"t-c{j}", "Tiny", 100.0) for j in range(4)]
    return rows


@pytest.fixture
def many_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = make_db(tmp_path / "many.duckdb", {"purchases": _purchases()})
    monkeypatch.setenv(store.DB_ENV, str(path))
    return path


def _price(department: str = "All") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("app_pages/price.py")
    if department != "All":
        at.session_state[filters.DEPARTMENT_KEY] = department
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _ranking(at: AppTest) -> dict:
    # The average ticket is the Price family's first indicator: its trend, then its ranking.
    return json.loads(at.get("plotly_chart")[1].proto.spec)["data"][0]


def _captions(at: AppTest) -> str:
    return " ".join(str(c.value) for c in at.caption)


def test_a_ranking_of_many_departments_draws_the_best_and_the_worst_ten(many_db):
    at = _price()
    bars = _ranking(at)
    best_first = bars["y"][::-1]
    # best 10 by average ticket: d24 … d15; worst 10: d10 … d01; Tiny (n = 4) is not ranked
    assert best_first == [f"d{i:02d}" for i in range(24, 14, -1)] + [
        f"d{i:02d}" for i in range(10, 0, -1)]
    assert family.TOP_N == 10
    # 25 departments: d11 … d14 and Tiny are not drawn
    assert "5 of 25 are not drawn" in _captions(at)
    assert "Not ranked, fewer than 30 rows in 2025-01: Tiny (n = 4)" in _captions(at)


def test_show_every_department_draws_them_all_with_the_small_one_last_and_greyed(many_db):
    at = _price()
    at.toggle(key="show-all-price").set_value(True).run()
    assert not at.exception
    bars = _ranking(at)
    best_first = bars["y"][::-1]
    assert best_first == [f"d{i:02d}" for i in range(24, 0, -1)] + ["Tiny"]
    colours = bars["marker"]["color"][::-1]
    assert colours[-1] == "#d0d5dc" and set(colours[:-1]) == {"#9db7d5"}
    # its label says why: 4 purchases of 100 → an average ticket of 100.00
    assert bars["text"][::-1][-1] == f"{400 / 4:,.2f} · n = 4"
    assert bars["text"][::-1][0] == f"{30 * 24 / 30:,.2f}"


def test_the_chosen_department_is_drawn_even_when_it_is_not_among_the_ten(many_db):
    at = _price("d12")
    bars = _ranking(at)
    assert "d12" in bars["y"] and len(bars["y"]) == 21
    colours = dict(zip(bars["y"], bars["marker"]["color"], strict=True))
    assert colours["d12"] == "#1f5fa8" and colours["d24"] == "#9db7d5"


def _table(at: AppTest):
    return at.dataframe[0].value


def test_the_month_table_ranks_by_the_first_indicator_with_all_on_top(many_db):
    at = _price()
    table = _table(at)
    assert table["department"].tolist() == ["All", *[f"d{i:02d}" for i in range(24, 0, -1)],
                                            "Tiny"]
    ranks = table["rank"].tolist()
    assert ranks[1:25] == list(range(1, 25))
    assert str(ranks[0]) == "<NA>" and str(ranks[25]) == "<NA>"  # All and Tiny: no rank
    assert table["too_few_rows"].tolist()[-1] == "n = 4"
    assert set(table["too_few_rows"].tolist()[:-1]) == {""}
    # the average ticket of All: (30 × (1 + 2 + … + 24) + 4 × 100) / (24 × 30 + 4)
    assert table["average_ticket"].iloc[0] == pytest.approx(
        (30 * sum(range(1, 25)) + 400) / (24 * 30 + 4))


def test_rank_by_another_indicator_reorders_the_table(many_db):
    at = _price()
    at.selectbox(key="rank-by-price").set_value("revenue_per_customer").run()
    assert not at.exception
    table = _table(at)
    expected = [f"d{i:02d}" for i in range(12, 0, -1)] + [f"d{i:02d}" for i in range(24, 12, -1)]
    assert table["department"].tolist() == ["All", *expected, "Tiny"]
    d12 = table[table["department"] == "d12"].iloc[0]
    assert d12["rank"] == 1 and d12["revenue_per_customer"] == pytest.approx(30 * 12 / 1)


def test_the_chosen_department_row_is_highlighted(many_db):
    at = _price("d05")
    styled = at.dataframe[0].proto.arrow_data.styler
    # d05 has the 20th best average ticket: row 20 of the table under All (row 0)
    assert family.HIGHLIGHT_STYLE.split(";")[0] in styled.styles
    assert "row20_" in styled.styles
    assert "row19_" not in styled.styles and "row21_" not in styled.styles


def test_no_highlight_for_all(many_db):
    at = _price()
    assert not at.dataframe[0].proto.arrow_data.styler.styles


def test_a_department_under_the_minimum_is_ranked_once_the_minimum_allows_it(many_db):
    con = store.connect(many_db)
    store.write_setting(con, "min_volume", 4)
    con.close()
    at = _price()
    table = _table(at)
    # Tiny's 100.00 is now the best average ticket
    assert table["department"].tolist()[:3] == ["All", "Tiny", "d24"]
    assert table["rank"].tolist()[1:3] == [1, 2]
    assert "Tiny" not in _captions(at)
