"""A tiny database whose indicator values can be worked out by hand.

========  ==========  ======================================================  =================
month     department  purchases (amount)                                      complaints
========  ==========  ======================================================  =================
2025-01   North       10.0, 20.5                                              1 (product)
2025-01   South       5.0                                                     —
2025-02   North       30.0, 12.0, 8.0                                         1 (people)
========  ==========  ======================================================  =================

CSAT answers only in 2025-01 (North: 5, 4, 2), none in 2025-02. One target: CSAT for North,
70 by 2025-03 from a baseline of 60 in 2025-01.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from indicators import store, stored_indicators

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")

PURCHASES = [
    ("p1", "2025-01-05 10:00:00", "c1", "North", 10.0),
    ("p2", "2025-01-06 11:00:00", "c2", "North", 20.5),
    ("p3", "2025-01-07 12:00:00", "c3", "South", 5.0),
    ("p4", "2025-02-03 09:00:00", "c1", "North", 30.0),
    ("p5", "2025-02-04 09:30:00", "c4", "North", 12.0),
    ("p6", "2025-02-05 10:30:00", "c5", "North", 8.0),
]
COMPLAINTS = [
    ("k1", "2025-01-10 08:00:00", "North", "c1", "product"),
    ("k2", "2025-02-10 08:00:00", "North", "c4", "people"),
]
SURVEYS = [
    ("s1", "2025-01-12 08:00:00", "North", "csat", 5),
    ("s2", "2025-01-13 08:00:00", "North", "csat", 4),
    ("s3", "2025-01-14 08:00:00", "North", "csat", 2),
]


def build_fixture_db(path: Path) -> Path:
    """Write the rows above with parameterised SQL (every value a parameter) and rebuild the
    stored indicators, as any write by hand must."""
    con = store.connect(path)
    try:
        con.executemany(
            """INSERT INTO purchases (purchase_id, purchased_at, customer_id, department, amount,
                                      month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, date_trunc('month', CAST(? AS TIMESTAMP)))""",
            [(*row, row[1]) for row in PURCHASES],
        )
        con.executemany(
            """INSERT INTO complaints (complaint_id, opened_at, department, customer_id, component,
                                       month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, date_trunc('month', CAST(? AS TIMESTAMP)))""",
            [(*row, row[1]) for row in COMPLAINTS],
        )
        con.executemany(
            """INSERT INTO surveys (survey_id, answered_at, department, kind, score, month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, date_trunc('month', CAST(? AS TIMESTAMP)))""",
            [(*row, row[1]) for row in SURVEYS],
        )
        con.execute(
            """INSERT INTO targets (indicator, department, baseline_month, target_month, target,
                                    baseline)
               VALUES (?, ?, DATE '2025-01-01', DATE '2025-03-01', ?, ?)""",
            ["csat", "North", 70.0, 60.0],
        )
        # rows written by hand, not by a load: the stored indicators follow them
        stored_indicators.rebuild(con)
    finally:
        con.close()
    return path


@pytest.fixture(autouse=True)
def no_secrets_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every app test as if there were no ``.streamlit/secrets.toml``.

    A developer's own secrets file (sign-in configured for a real deployment) would otherwise
    turn sign-in on in tests that expect the embedded demo. Tests of sign-in set
    ``AppTest.secrets``, which replaces ``st.secrets`` for the run.
    """
    from streamlit.runtime.secrets import secrets_singleton

    monkeypatch.setattr(secrets_singleton, "_secrets", {})


@pytest.fixture
def fixture_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = build_fixture_db(tmp_path / "fixture.duckdb")
    monkeypatch.setenv(store.DB_ENV, str(path))
    return path


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def metric_values(at: AppTest) -> dict[str, str]:
    """The scorecard's metrics: label → value as shown."""
    return {m.label: m.value for m in at.metric}


def use_database(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make ``path`` the app's database for the test, with no cached read of another one."""
    from dashboard import data

    monkeypatch.setenv(store.DB_ENV, str(path))
    data.clear_caches()
    return path


def stored_settings(path: Path) -> store.Settings:
    """The settings stored in the database at ``path`` (read-only, closed again)."""
    con = store.connect(path, read_only=True)
    try:
        return store.read_settings(con)
    finally:
        con.close()
