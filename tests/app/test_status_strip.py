"""The status strip at the top of the scorecard: how many targets stand in each status in the
chosen month, and the missed and off-track ones by name, each a link to its route card.

Counted by hand twice: on a small database whose every status is arithmetic (the docstring of
:func:`build_strip_db`), and on the demo's targets, where the test reads the targets and the
indicator values and applies SPEC §3 (and, past the target month, achieved / missed) itself.
"""

from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from indicators import catalog, compute, demo, ingest, store
from tests.app.conftest import APP, build_fixture_db

STRIP = ("achieved", "on track", "at risk", "off track", "missed")
_COLOURED = re.compile(r"^:(\w+)\[(.+)\]$")


def strip_counts(at: AppTest) -> dict[str, int]:
    """The strip's five numbers as shown: metric ``:green[Achieved]`` = ``:green[1]``."""
    counts = {}
    for m in at.metric:
        label, value = _COLOURED.match(m.label), _COLOURED.match(m.value)
        if label and value:
            counts[label[2].lower()] = int(value[2])
    return counts


def route_links(at: AppTest) -> list[tuple[str, str]]:
    """``(label, target)`` of every link to a route card the page drew."""
    return [(link.proto.label, link.proto.query_string) for link in at.get("page_link")
            if link.proto.page.endswith("route.py") or "route" in link.proto.page]


def open_scorecard(department: str, month: str, *, secrets: dict | None = None,
                   user: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    if secrets is not None:
        at.secrets = json.loads(json.dumps(secrets))
        at.user = user or {}
    at.query_params["department"] = department
    at.query_params["month"] = month
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- a small database, every status by arithmetic ------------------------------------------

TARGETS = [
    # indicator, baseline month, target month, target, baseline, tolerance
    ("complaint_rate", "2024-12", "2025-02", 20.0, 60.0, None),
    ("revenue", "2024-12", "2025-01", 100.0, 10.0, None),
    ("active_customers", "2025-03", "2025-06", 9.0, 5.0, None),
    ("purchases", "2024-12", "2025-04", 6.0, 1.0, 1.0),
    ("average_ticket", "2024-12", "2025-03", 15.0, 10.0, None),
    ("new_customers", "2024-12", "2025-04", 3.0, 0.0, None),
]


def build_strip_db(path: Path) -> Path:
    """The conftest database (North: purchases 10 + 20.5 in January, 30 + 12 + 8 in February;
    one complaint each month; CSAT 2 of 3 satisfied in January, none in February; customers
    c1, c2 in January, c1, c4, c5 in February) with its CSAT target (60 → 70, 2025-01 →
    2025-03) and six more targets for North.  In **2025-02**:

    * CSAT: no answers — no value;
    * complaint rate: 1 ÷ 3 × 100 = 33.3 at its target month (planned 20), 13.3 worse than
      planned against a tolerance of (60 − 20) ÷ 10 = 4 — **off track**;
    * revenue: 30 + 12 + 8 = 50 after its target month (2025-01), worse than 100 — **missed**;
    * active customers: baseline month 2025-03 — not started;
    * purchases: 3 against planned 1 + (6 − 1) × 2 ÷ 4 = 3.5, within the tolerance 1 — **at risk**;
    * average ticket: 50 ÷ 3 = 16.7, at or better than 15 — **achieved**;
    * new customers: c4 and c5 = 2, better than planned 0 + 3 × 2 ÷ 4 = 1.5, short of 3 —
      **on track**.

    In **2025-01**: CSAT 2 ÷ 3 = 66.7 against planned 60 — on track; complaint rate 1 ÷ 2 × 100
    = 50 against planned 60 − 40 × 1 ÷ 2 = 40, 10 worse (tolerance 4) — off track; revenue 30.5
    at its target month against 100, 69.5 worse (tolerance 9) — off track; purchases 2 against
    1 + 5 ÷ 4 = 2.25 — at risk; average ticket 30.5 ÷ 2 = 15.25 — achieved; new customers c1,
    c2 = 2 against 0.75 — on track; active customers not started.
    """
    build_fixture_db(path)
    con = store.connect(path)
    try:
        con.executemany(
            """INSERT INTO targets (indicator, department, baseline_month, target_month, target,
                                    baseline, tolerance)
               VALUES (?, 'North', CAST(? || '-01' AS DATE), CAST(? || '-01' AS DATE), ?, ?, ?)""",
            [list(t) for t in TARGETS],
        )
    finally:
        con.close()
    return path


@pytest.fixture
def strip_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = build_strip_db(tmp_path / "strip.duckdb")
    monkeypatch.setenv(store.DB_ENV, str(path))
    data.clear_caches()
    return path


def test_each_status_counted_in_february(strip_db):
    at = open_scorecard("North", "2025-02")
    assert strip_counts(at) == {"achieved": 1, "on track": 1, "at risk": 1, "off track": 1,
                                "missed": 1}
    notes = " ".join(c.value for c in at.caption)
    # 7 targets: CSAT has no value, active customers starts in 2025-03
    assert "Of 7 targets: 1 not started" in notes and "1 without a value this month" in notes


def test_the_missed_and_off_track_targets_are_named_and_link_to_their_route_card(strip_db):
    at = open_scorecard("North", "2025-02")
    assert route_links(at) == [
        (f"Revenue — missed: {50:.2f}, target {100:.2f} by 2025-01", "target=revenue%40North"),
        (f"Complaints per 100 purchases — off track: {1 / 3 * 100:.1f}, planned {20:.1f}",
         "target=complaint_rate%40North"),
    ]


def test_another_month_counts_that_months_statuses(strip_db):
    at = open_scorecard("North", "2025-01")
    assert strip_counts(at) == {"achieved": 1, "on track": 2, "at risk": 1, "off track": 2,
                                "missed": 0}
    # two off track, in catalog order: revenue (quantity) before the complaint rate (quality)
    assert [label for label, _ in route_links(at)] == [
        f"Revenue — off track: {10 + 20.5:.2f}, planned {100:.2f}",
        f"Complaints per 100 purchases — off track: {1 / 2 * 100:.1f}, planned {60 - 40 / 2:.1f}",
    ]


def test_no_targets_says_so_and_tells_analysts_where_to_set_them(strip_db):
    at = open_scorecard("All", "2025-02")  # every target is North's
    assert strip_counts(at) == {}
    assert any("No targets" in m.value and "All" in m.value for m in at.markdown)
    assert [link.proto.page for link in at.get("page_link")
            if "targets" in link.proto.page] != []


def test_an_executive_is_not_sent_to_the_targets_page(strip_db):
    secrets = {
        "auth": {
            "redirect_uri": "http://localhost:8501/oauth2callback",
            "cookie_secret": "a-test-secret-that-is-long-enough",
            "client_id": "test-client", "client_secret": "test-secret",
            "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
        },
        "roles": {"ceo@example.com": {"role": "executive"}},
    }
    at = open_scorecard("All", "2025-02", secrets=secrets, user={
        "is_logged_in": True, "email": "ceo@example.com", "email_verified": True})
    assert any("No targets" in m.value for m in at.markdown)
    assert not [link for link in at.get("page_link") if "targets" in link.proto.page]


# --- the demo's targets, counted by hand -----------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    folder = tmp_path_factory.mktemp("strip-demo")
    path = folder / "demo.duckdb"
    con = store.connect(path)
    try:
        for file in demo.write_demo_files(folder / "files"):
            assert ingest.ingest_file(con, file).accepted
    finally:
        con.close()
    return path


@pytest.fixture
def demo_env(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(store.DB_ENV, str(demo_db))
    data.clear_caches()
    return demo_db


def months_from(start: str, end: str) -> int:
    (y0, m0), (y1, m1) = (map(int, start.split("-")), map(int, end.split("-")))
    return (y1 - y0) * 12 + (m1 - m0)


def hand_status(target: dict, values: pd.Series, month: str) -> str:
    """SPEC §3 for one target and month, written out; past the target month: achieved or
    missed; before the baseline month: not started."""
    if month < target["baseline_month"]:
        return "not started"
    baseline = target["baseline"]
    if math.isnan(baseline):
        baseline = float(values.get(target["baseline_month"], math.nan))
    actual = float(values.get(month, math.nan))
    if math.isnan(baseline) or math.isnan(actual):
        return "no data"
    goal = target["target"]
    better = 1 if catalog.get(target["indicator"]).direction == "higher" else -1
    if month > target["target_month"]:
        return "achieved" if better * (actual - goal) >= 0 else "missed"
    k = months_from(target["baseline_month"], month)
    n = months_from(target["baseline_month"], target["target_month"])
    planned = baseline + (goal - baseline) * k / n
    tolerance = target["tolerance"]
    if math.isnan(tolerance):
        tolerance = abs(goal - baseline) / 10
    if better * (actual - goal) >= 0:
        return "achieved"
    if better * (actual - planned) >= 0:
        return "on track"
    if better * (planned - actual) <= tolerance:
        return "at risk"
    return "off track"


def hand_count(path: Path, department: str, month: str) -> dict[str, list[str]]:
    """Status → the indicators of the department's targets in that status in ``month``."""
    con = store.connect(path, read_only=True)
    try:
        targets = store.read_targets(con)
        table = compute.indicator_table(con)
    finally:
        con.close()
    stored = ("*", "All") if department == "All" else (department,)
    counted: dict[str, list[str]] = {}
    for target in targets[targets["department"].isin(stored)].to_dict("records"):
        rows = table[(table["indicator"] == target["indicator"])
                     & (table["department"] == department)]
        values = rows.set_index("month")["value"].dropna()
        status = hand_status(target, values, month)
        counted.setdefault(status, []).append(target["indicator"])
    return counted


@pytest.mark.parametrize(("department", "month"), [
    ("All", "2025-12"), ("All", "2025-09"), ("All", "2024-06"),
    ("Call centre", "2025-06"), ("Field service", "2025-03"),
])
def test_the_strip_matches_a_hand_count_of_the_demos_targets(demo_env, department, month):
    counted = hand_count(demo_env, department, month)
    assert sum(len(counted.get(s, [])) for s in STRIP) >= 2, counted  # a count worth checking
    at = open_scorecard(department, month)
    assert strip_counts(at) == {s: len(counted.get(s, [])) for s in STRIP}
    named = sorted(label.split(" — ")[0] for label, _ in route_links(at))
    assert named == sorted(catalog.get(i).label for s in ("missed", "off track")
                           for i in counted.get(s, []))
