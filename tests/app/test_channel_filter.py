"""AppTest: the channel filter (issue 19, part 1) — beside the department, in the URL, honoured by
the pages' indicators, a channel comparison on the family pages, role scoping unchanged.

The database, by hand: 2025-01 and 2025-02, North and South.
North: 2025-01 web 3 purchases (10 each), store 1 (10), one purchase with no channel (10);
       2025-02 web 2, store 2.
South: 2025-01 store 2; 2025-02 store 1, web 1.
Complaints: North 2025-02, 1 on the web (people).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.format import WORD_JOINER
from indicators import store, stored_indicators
from tests.app.conftest import APP, use_database

PURCHASES = {  # (month, department, channel): count
    ("2025-01", "North", "web"): 3, ("2025-01", "North", "store"): 1,
    ("2025-01", "North", ""): 1, ("2025-02", "North", "web"): 2,
    ("2025-02", "North", "store"): 2, ("2025-01", "South", "store"): 2,
    ("2025-02", "South", "store"): 1, ("2025-02", "South", "web"): 1,
}


@pytest.fixture
def channel_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "channels.duckdb"
    con = store.connect(path)
    try:
        rows = [(f"p-{m}-{d}-{c}-{i}", f"{m}-10 10:00:00", f"c-{d}-{i}", d, 10.0, c or None,
                 f"{m}-01")
                for (m, d, c), n in PURCHASES.items() for i in range(n)]
        con.executemany(
            """INSERT INTO purchases (purchase_id, purchased_at, customer_id, department, amount,
                                      channel, month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, ?, CAST(? AS DATE))""", rows)
        con.execute(
            """INSERT INTO complaints (complaint_id, opened_at, department, customer_id, component,
                                       channel, month)
               VALUES ('k1', TIMESTAMP '2025-02-11 08:00:00', 'North', 'c-North-0', 'people',
                       'web', DATE '2025-02-01')""")
        stored_indicators.rebuild(con)
    finally:
        con.close()
    return use_database(path, monkeypatch)


def plain(text: str) -> str:
    return text.replace(WORD_JOINER, "").replace("\\", "")


def run(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in {"month": "2025-02", **params}.items():
        at.query_params[key] = value
    return at.run()


def metric(at: AppTest, label: str) -> str:
    return plain({m.label: m.value for m in at.metric}[label])


@pytest.mark.usefixtures("channel_db")
def test_the_channel_list_and_every_channel_by_default():
    at = run()
    assert at.selectbox(key="channel").options == ["All channels", "not given", "store", "web"]
    assert at.selectbox(key="channel").value == "All channels"
    assert metric(at, "Purchases") == str(2 + 2 + 1 + 1)  # February, every channel
    assert "channel" not in at.query_params


@pytest.mark.usefixtures("channel_db")
def test_a_channel_narrows_the_cards_and_stays_in_the_url():
    at = run()
    at.selectbox(key="channel").set_value("web").run()
    assert metric(at, "Purchases") == str(2 + 1)  # North 2 and South 1 on the web
    assert metric(at, "Revenue") == f"{(2 + 1) * 10:.2f}"
    # complaints per 100 purchases on the web: 1 of 3
    assert metric(at, "Complaints per 100 purchases") == f"{100 * 1 / 3:.1f}"
    assert metric(at, "Retention rate") == "— not per channel"
    assert at.query_params["channel"] == ["web"] or at.query_params["channel"] == "web"
    assert any("Targets are set for every channel together" in m.value for m in at.markdown)


@pytest.mark.usefixtures("channel_db")
def test_a_link_naming_a_channel_opens_it_and_the_department_too():
    at = run(channel="store", department="North")
    # North in February, in store: 2 purchases; in January 1 → +1
    assert metric(at, "Purchases") == "2"
    at.selectbox(key="month").set_value("2025-01").run()
    assert metric(at, "Purchases") == "1"


@pytest.mark.usefixtures("channel_db")
def test_a_link_naming_an_unknown_channel_falls_back_with_a_warning():
    at = run(channel="fax")
    assert at.selectbox(key="channel").value == "All channels"
    assert any("fax" in plain(w.value) for w in at.warning)


@pytest.mark.usefixtures("channel_db")
def test_the_family_page_compares_the_channels():
    at = run(department="North")
    at.switch_page("app_pages/quantity.py").run()
    assert not at.exception
    tables = [t.value for t in at.dataframe if "Channel" in t.value.columns]
    assert tables, "no channel comparison"
    by = tables[0].set_index("Channel")
    # North, February: web 2, store 2; January's purchase without a channel is not in February
    assert by.loc["web", "Purchases"] == "2" and by.loc["store", "Purchases"] == "2"
    assert "not given" not in by.index


@pytest.mark.usefixtures("channel_db")
def test_what_moved_it_splits_by_channel():
    at = run(indicator="purchases")
    at.switch_page("app_pages/explain.py").run()
    at.radio(key="explain-by").set_value("channel").run()
    table = at.dataframe[0].value.set_index("Channel")
    # All: January web 3, store 1 + 2, not given 1; February web 2 + 1, store 2 + 1
    assert table.loc["web", "Contribution"] == f"{(2 + 1) - 3:+d}".replace("+0", "0")
    assert table.loc["store", "Contribution"] == f"{(2 + 1) - (1 + 2):+d}".replace("+0", "0")
    assert table.loc["not given", "Contribution"] == "-1"
    assert table.loc["Total", "Contribution"] == f"{(2 + 2 + 1 + 1) - (3 + 1 + 1 + 2):+d}"


def test_a_team_lead_reads_no_other_department_by_channel(channel_db):
    from dashboard import auth, loaders
    from dashboard.connection import data_version

    version = data_version(channel_db)
    with pytest.raises(auth.Forbidden):
        loaders.by_channel(str(channel_db), version, ("North",), "South", "2025-02")
    mine = loaders.indicators(str(channel_db), version, ("North",), "web")
    assert set(mine["department"]) == {"All", "North"}
    north = mine[(mine["department"] == "North") & (mine["indicator"] == "purchases")]
    assert north.set_index("month")["value"].to_dict() == {"2025-01": 3.0, "2025-02": 2.0}
