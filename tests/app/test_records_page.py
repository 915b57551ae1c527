"""AppTest: the rows behind a number (issue 19, part 4) — one more click from What moved it; the
rows listed are the rows counted; a team lead's list holds their departments' rows only.

Figures from ``conftest.py``'s fixture: February has purchases p4, p5, p6 (North); January's
CSAT answers in North score 5, 4 and 2 (two satisfied: 4 or 5).
"""

from __future__ import annotations

import pytest

from dashboard.format import WORD_JOINER
from tests.app.test_roles import LEAD_NORTH, as_user, rendered_text, roles_db  # noqa: F401

PAGE = "app_pages/records.py"


def plain(text: str) -> str:
    return text.replace(WORD_JOINER, "").replace("\\", "")


def open_page(at, indicator, month="2025-02", department=None):
    at.query_params["month"] = month
    at.query_params["indicator"] = indicator
    if department:
        at.query_params["department"] = department
    return at.switch_page(PAGE).run()


def test_the_rows_listed_are_the_purchases_counted(fixture_db, app):
    at = open_page(app, "purchases")
    assert not at.exception
    table = at.dataframe[0].value
    assert sorted(table["purchase_id"]) == ["p4", "p5", "p6"]
    assert plain(at.markdown[0].value) == "3 rows: the month's purchases."
    assert [float(a) for a in table.sort_values("purchase_id")["amount"]] == [30.0, 12.0, 8.0]


def test_a_rate_says_how_many_rows_it_counted(fixture_db, app):
    at = open_page(app, "csat", month="2025-01", department="North")
    table = at.dataframe[0].value
    assert sorted(table["score"].tolist()) == [2, 4, 5]
    assert table["counted"].tolist().count(True) == 2
    assert plain(at.markdown[0].value) == (
        f"3 rows: the month's csat answers. 2 of them counted — scored 4 or 5 — "
        f"{100 * 2 / 3:.1f} %.")


def test_sorting_puts_the_largest_first(fixture_db, app):
    at = open_page(app, "purchases")
    at.selectbox(key="records-sort").set_value("amount").run()
    at.toggle(key="records-desc").set_value(True).run()
    assert at.dataframe[0].value["purchase_id"].tolist() == ["p4", "p5", "p6"]  # 30, 12, 8


def test_explain_links_to_the_rows(fixture_db, app):
    app.query_params["month"] = "2025-02"
    app.query_params["indicator"] = "revenue"
    at = app.switch_page("app_pages/explain.py").run()
    links = [(link.proto.page, link.proto.query_string) for link in at.get("page_link")
             if link.proto.page.endswith("records")]
    assert links == [("records", "indicator=revenue")]


def test_a_growth_rate_says_why_its_rows_are_not_listed(fixture_db, app):
    at = open_page(app, "revenue_growth_mom")
    assert "compares two months" in at.info[0].value


@pytest.mark.usefixtures("roles_db")
def test_a_team_lead_lists_their_departments_rows_only():
    at = as_user(LEAD_NORTH)
    at.query_params["month"] = "2025-02"
    at.run()
    at = open_page(at, "complaints")
    assert not at.exception
    table = at.dataframe[0].value
    # February: k2 in North, k3 in South; the North lead's All lists k2 alone
    assert table["complaint_id"].tolist() == ["k2"]
    assert "South" not in rendered_text(at)
    assert any("your departments only" in c.value for c in at.caption)
