"""AppTest: the "What moved it" page (issue 19, part 2) — one click from every scorecard card,
the change split by department as a waterfall and a table, the scorecard's indicator carried in
the link, and a team lead's view naming no other department.

Figures from ``conftest.py``'s fixture: revenue North 10 + 20.5 = 30.5 in 2025-01, then
30 + 12 + 8 = 50 in 2025-02; South 5, then nothing.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.format import WORD_JOINER
from indicators import catalog, store
from tests.app.test_roles import LEAD_NORTH, as_user, rendered_text, roles_db  # noqa: F401

PAGE = "app_pages/explain.py"


def plain(text: str) -> str:
    return text.replace(WORD_JOINER, "").replace("\\", "")


def open_page(at: AppTest, indicator: str, month: str = "2025-02") -> AppTest:
    at.query_params["month"] = month
    at.query_params["indicator"] = indicator
    return at.switch_page(PAGE).run()


def test_every_scorecard_card_links_to_what_moved_it(fixture_db, app):
    app.query_params["month"] = "2025-02"
    app.run()
    links = [link.proto.query_string for link in app.get("page_link")
             if link.proto.page.endswith("explain")]
    assert sorted(links) == sorted(f"indicator={i}" for i in catalog.INDICATOR_IDS)


def test_revenue_split_by_department_adds_up(fixture_db, app):
    at = open_page(app, "revenue")
    assert not at.exception
    assert plain(at.markdown[0].value) == (
        f"**Revenue rose from {30.5 + 5:.2f} in 2025-01 to {30 + 12 + 8:.2f} in 2025-02 "
        f"(+{50 - 35.5:.2f}).**")
    table = at.dataframe[0].value
    assert table["Department"].tolist() == ["North", "South", "Total"]  # largest part first
    assert table["Contribution"].tolist() == [f"+{50 - 30.5:.2f}", f"-{5 - 0:.2f}",
                                              f"+{50 - 35.5:.2f}"]
    chart = at.get("plotly_chart")
    assert len(chart) == 1


def test_a_department_can_split_only_complaint_indicators(fixture_db, app):
    app.query_params["department"] = "North"
    at = open_page(app, "revenue")
    assert "only the complaint indicators split" in at.info[0].value
    at.selectbox(key="explain-indicator").set_value("complaints").run()
    # North: 1 complaint about the product in January, 1 about people in February
    table = at.dataframe[0].value.set_index("Service component")
    assert table.loc["people", "Contribution"] == "+1"
    assert table.loc["product", "Contribution"] == "-1"


def test_a_median_says_why_it_is_not_split(fixture_db, app):
    at = open_page(app, "response_time_median")
    assert "a median is not a sum of its parts" in at.info[0].value


def test_against_the_target_the_plan_is_shared_as_the_baseline_month(fixture_db, app):
    con = store.connect(fixture_db)
    try:
        con.execute("""INSERT INTO targets (indicator, department, baseline_month, target_month,
                                            target, baseline)
                       VALUES ('revenue', '*', DATE '2025-01-01', DATE '2025-03-01', 75.5, 35.5)""")
    finally:
        con.close()
    at = open_page(app, "revenue")
    at.radio(key="explain-against").set_value("target").run()
    planned = 35.5 + (75.5 - 35.5) * 1 / 2  # straight, one month of two
    assert plain(at.markdown[0].value) == (
        f"**Revenue is 50.00 in 2025-02 against {planned:.2f} planned (-{planned - 50:.2f}).**")
    table = at.dataframe[0].value.set_index("Department")
    # January's shares: North 30.5 of 35.5, South 5 of 35.5
    assert table.loc["North", "Planned"] == f"{planned * 30.5 / 35.5:.2f}"
    assert table.loc["South", "Contribution"] == f"-{planned * 5 / 35.5:.2f}"
    assert table.loc["North", "Contribution"] == f"+{50 - planned * 30.5 / 35.5:.2f}"


@pytest.mark.usefixtures("roles_db")
def test_a_team_lead_sees_other_departments_as_one_part():
    at = as_user(LEAD_NORTH)
    at.query_params["month"] = "2025-02"
    at.run()
    at = open_page(at, "revenue")
    assert not at.exception
    table = at.dataframe[0].value
    assert "other departments" in table.iloc[:, 0].tolist()
    assert "South" not in rendered_text(at)
