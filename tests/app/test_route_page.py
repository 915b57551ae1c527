"""AppTest: the route page sorts and filters by status, shows a linked target first, says every
figure in words (no "−192 % travelled") and gives the table human headers.

The database holds only purchases, ten (amount 10.0 each) per unit in the table below, so
``purchases`` per department and month is the count and ``revenue`` ten times it:

==========  ====  ====  ====  ====  =====================================================
department  2025-01 … 2025-04          target (purchases unless said), status in 2025-04
==========  ======================  =======================================================
Alpha       2     4     3     2     4 by 2025-02: met at the deadline (4), now 2 → missed
Bravo       3     2     2     1     8 by 2025-06: planned 3 + 5 × 3/5 = 6, 1 → off track
Charlie     2     4     6     7     12 by 2025-06: planned 2 + 10 × 3/5 = 8, 7 is 1 short,
                                    tolerance 1 → at risk
Delta       1     2     3     5     6 by 2025-06: planned 1 + 5 × 3/5 = 4, 5 → on track
Echo        1     2     3     4     3 by 2025-06: 4 ≥ 3 → achieved; revenue 50 by 2025-05:
                                    planned 10 + 40 × 3/4 = 40, 40 → on track
==========  ====  ====  ====  ====  =====================================================
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.format import WORD_JOINER
from dashboard.route_words import TABLE_COLUMNS
from indicators import store, stored_indicators
from tests.app.conftest import APP

PAGE = "app_pages/route.py"
COUNTS = {
    "Alpha": (2, 4, 3, 2),
    "Bravo": (3, 2, 2, 1),
    "Charlie": (2, 4, 6, 7),
    "Delta": (1, 2, 3, 5),
    "Echo": (1, 2, 3, 4),
}
MONTHS = ("2025-01", "2025-02", "2025-03", "2025-04")
TARGETS = [
    ("purchases", "Alpha", "2025-02-01", 4.0),
    ("purchases", "Bravo", "2025-06-01", 8.0),
    ("purchases", "Charlie", "2025-06-01", 12.0),
    ("purchases", "Delta", "2025-06-01", 6.0),
    ("purchases", "Echo", "2025-06-01", 3.0),
    ("revenue", "Echo", "2025-05-01", 50.0),
]
WORST_FIRST = [  # (indicator label, department) in the order the page lists them
    ("Purchases", "Alpha"),  # missed
    ("Purchases", "Bravo"),  # off track
    ("Purchases", "Charlie"),  # at risk
    ("Revenue", "Echo"),  # on track, deadline 2025-05
    ("Purchases", "Delta"),  # on track, deadline 2025-06
    ("Purchases", "Echo"),  # achieved
]


def build(path: Path) -> Path:
    con = store.connect(path)
    try:
        rows = []
        for department, counts in COUNTS.items():
            for month, count in zip(MONTHS, counts, strict=True):
                for i in range(count):
                    at = f"{month}-{10 + i:02d} 12:00:00"
                    rows.append((f"{department}-{month}-{i}", at, f"c-{department}-{i}",
                                 department, 10.0, at))
        con.executemany(
            """INSERT INTO purchases (purchase_id, purchased_at, customer_id, department, amount,
                                      month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, date_trunc('month', CAST(? AS TIMESTAMP)))""",
            rows,
        )
        con.executemany(
            """INSERT INTO targets (indicator, department, baseline_month, target_month, target,
                                    tolerance)
               VALUES (?, ?, DATE '2025-01-01', CAST(? AS DATE), ?, ?)""",
            [(*t, 1.0 if t[1] == "Charlie" else None) for t in TARGETS],
        )
        stored_indicators.rebuild(con)  # rows written by hand
    finally:
        con.close()
    return path


@pytest.fixture
def route_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = build(tmp_path / "route.duckdb")
    monkeypatch.setenv(store.DB_ENV, str(path))
    return path


def open_page(query: dict[str, str] | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    if query:
        app.query_params.update(query)
    app.switch_page(PAGE).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def plain(text: str) -> str:
    """Markdown as read: escapes and invisible word joiners removed."""
    return re.sub(r"\\(.)", r"\1", text.replace(WORD_JOINER, ""))


TITLE = re.compile(r"^\*\*(?P<label>[^*]+)\*\* · (?P<department>.+?) — target ")


def cards(app: AppTest) -> list[tuple[str, str]]:
    """(indicator label, department) of every card, top to bottom."""
    found = []
    for m in app.markdown:
        match = TITLE.match(plain(m.value))
        if match:
            found.append((match["label"], match["department"]))
    return found


def badges(app: AppTest) -> list[str]:
    return [re.sub(r"^:\w+-badge\[(.*)\]$", r"\1", m.value) for m in app.markdown
            if re.match(r"^:\w+-badge\[", m.value)]


def every_text(app: AppTest) -> list[str]:
    texts = [plain(m.value) for m in app.markdown] + [plain(c.value) for c in app.caption]
    texts += [f"{m.label} {m.value}" for m in app.metric]
    texts += [plain(p.proto.text) for p in app.get("progress")]
    for frame in app.dataframe:
        texts += [str(v) for v in frame.value.to_numpy().ravel()]
    return texts


def test_cards_are_sorted_worst_first(route_db):
    app = open_page()
    assert cards(app) == WORST_FIRST
    assert badges(app) == ["missed", "off track", "at risk", "on track", "on track", "achieved"]


def test_the_status_filter_counts_and_keeps_only_the_chosen_statuses(route_db):
    app = open_page()
    pills = app.pills(key="route-statuses")
    assert pills.options == ["missed (1)", "off track (1)", "at risk (1)", "on track (2)",
                             "achieved (1)"]
    pills.set_value(["off track", "on track"]).run()
    assert cards(app) == [("Purchases", "Bravo"), ("Revenue", "Echo"), ("Purchases", "Delta")]
    pills.set_value([]).run()
    assert cards(app) == []
    assert any("No target has the statuses chosen" in i.value for i in app.info)


def test_sort_by_deadline_and_by_indicator(route_db):
    app = open_page()
    app.segmented_control(key="route-sort").set_value("Deadline").run()
    # 2025-02 (Alpha), 2025-05 (revenue Echo), then the 2025-06 ones worst first
    assert cards(app) == [("Purchases", "Alpha"), ("Revenue", "Echo"), ("Purchases", "Bravo"),
                          ("Purchases", "Charlie"), ("Purchases", "Delta"), ("Purchases", "Echo")]
    app.segmented_control(key="route-sort").set_value("Indicator").run()
    assert cards(app)[-1] == ("Revenue", "Echo")


def test_a_linked_target_comes_first_and_is_highlighted(route_db):
    app = open_page({"target": "purchases@Delta"})
    assert cards(app)[0] == ("Purchases", "Delta")
    assert cards(app)[1:] == [c for c in WORST_FIRST if c != ("Purchases", "Delta")]
    assert any("linked to" in c.value for c in app.caption)
    # even when its status is filtered out
    app.pills(key="route-statuses").set_value(["missed"]).run()
    assert cards(app) == [("Purchases", "Delta"), ("Purchases", "Alpha")]


def test_a_link_to_an_unknown_target_says_so(route_db):
    app = open_page({"target": "csat@Nowhere"})
    assert cards(app) == WORST_FIRST
    assert any("not among the targets shown" in c.value for c in app.caption)


def test_every_figure_in_words_and_no_negative_share_travelled(route_db):
    app = open_page()
    texts = every_text(app)
    assert not [t for t in texts if re.search(r"[-−]\s*\d[\d.,]*\s*%", t)]
    # Bravo: (1 − 3) ÷ (8 − 3) = −40 %: 3 − 1 = 2 purchases the wrong way
    assert "moved away from the target by 2" in texts
    # Echo: (4 − 1) ÷ (3 − 1) = 150 %: 4 − 3 = 1 beyond
    assert "beyond the target by 1" in texts
    # Alpha: 4 at the deadline 2025-02 (January's 2 was short of it), 2 now
    assert "met in 2025-02 — now 2, worse than the target" in texts
    # Charlie: (7 − 2) ÷ (12 − 2) = 50 %; Delta (5 − 1) ÷ (6 − 1) = 80 %
    assert "50 % of the route travelled, 50 % to go" in texts
    assert "80 % of the route travelled, 20 % to go" in texts
    # pace needed only while open and not achieved: Bravo, Charlie, Delta, revenue Echo
    pace = [m.value for m in app.metric if m.label == "Pace needed"]
    # Bravo (8 − 1) ÷ 2 = 3.5, Charlie (12 − 7) ÷ 2 = 2.5, revenue Echo (50 − 40) ÷ 1 = 10.00,
    # Delta (6 − 5) ÷ 2 = 0.5; whole purchases, rounded half up as by hand
    assert (8 - 1) / 2 == 3.5 and (12 - 7) / 2 == 2.5 and (6 - 5) / 2 == 0.5
    assert pace == ["+4 per month", "+3 per month", f"+{(50 - 40) / 1:,.2f} per month",
                    "+1 per month"]
    # the missed target shows the deadline and the latest value, no projection
    assert ("At the deadline (2025-02)", "4") in [(m.label, m.value) for m in app.metric]


def test_all_targets_table_has_human_headers_and_labels(route_db):
    app = open_page()
    table = app.dataframe[-1].value
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert list(table["Indicator"])[:2] == ["Purchases · count", "Purchases · count"]
    assert "Revenue · money" in set(table["Indicator"])
    assert not set(table["Indicator"]) & {"purchases", "revenue"}
    echo_revenue = table[table["Indicator"] == "Revenue · money"].iloc[0]
    assert (echo_revenue["Latest value"], echo_revenue["Target"]) == (
        f"{4 * 10.0:,.2f}", f"{50.0:,.2f}")
    assert list(table["Status"]) == ["missed", "off track", "at risk", "on track", "on track",
                                     "achieved"]


def test_the_download_keeps_the_summary_in_full_and_snake_case(route_db, monkeypatch):
    from dashboard import widgets
    from indicators.route import SUMMARY_COLUMNS

    downloads = {}
    original = widgets.download

    def recording(frame, name, **kwargs):
        downloads[name] = frame
        original(frame, name, **kwargs)

    monkeypatch.setattr(widgets, "download", recording)
    app = open_page()
    export = downloads["route-summary"]
    # the summary, then each target's latest check-in (none here)
    assert list(export.columns) == [*SUMMARY_COLUMNS, "checkin_month", "checkin_status",
                                    "checkin_note", "checkin_author"]
    charlie = export[export["department"] == "Charlie"].iloc[0]
    # least squares through 2, 4, 6, 7 (2025-01 … 04): slope 8.5 ÷ 5 = 1.7 around the mean
    # 4.75 at 1.5 months in; 2025-06 is 5 months in
    assert charlie["forecast_at_target"] == pytest.approx(4.75 + 8.5 / 5 * (5 - 1.5))
    bravo = export[export["department"] == "Bravo"].iloc[0]
    # 3, 2, 2, 1 fall 0.6 a month: 2 − 0.6 × 3.5 = −0.1, but purchases can't go below 0
    assert 2 - 3 / 5 * (5 - 1.5) < 0
    assert bravo["forecast_at_target"] == 0.0
    shown = app.dataframe[-1].value.set_index("Department")
    assert shown.loc["Charlie", "Projected for the target month"] == "11"  # 10.7, whole purchases
    assert shown.loc["Bravo", "Projected for the target month"] == "0"
