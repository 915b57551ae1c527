"""The iceberg with its evidence (issue 20, point 2): the factor is a choice of where complaints are
counted, revenue at risk follows the dissatisfied customers who leave, the stored table stays a
full recomputation after every setting, an older database keeps its ×10, and a bad value is
refused with nothing written.

Scenario ``eight``: department A, 2025-01: eight customers buy 125 each (revenue 1,000 over 8
active customers, 125 per customer) and three complaints are opened; 2025-02: two complaints and
no purchase (revenue per customer missing).  Department B, 2025-01: one purchase of 40, no
complaint.  Every expected value is the arithmetic, written out.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from indicators import compute, iceberg, migrations, store, stored_indicators
from indicators.scope import Scope
from tests.indicators.engine_rows import complaint, make_db, purchase

ROWS = {
    "purchases": [
        *(purchase(f"p{i}", f"2025-01-{i + 2:02d} 10:00", f"c{i}", "A", 125) for i in range(8)),
        purchase("b1", "2025-01-05 10:00", "c9", "B", 40),
    ],
    "complaints": [
        complaint("k1", "2025-01-10 09:00", "A", customer="c1", component="product"),
        complaint("k2", "2025-01-11 09:00", "A", customer="c2", component="people"),
        complaint("k3", "2025-01-12 09:00", "A"),
        complaint("k4", "2025-02-03 09:00", "A", customer="c1", component="systems"),
        complaint("k5", "2025-02-04 09:00", "A"),
    ],
}


def _db(tmp_path: Path, settings: list[tuple[str, object, str]] = ()) -> duckdb.DuckDBPyConnection:
    return store.connect(make_db(tmp_path / "eight.duckdb", ROWS, list(settings)))


def _stored(con: duckdb.DuckDBPyConnection, month: str, department: str, indicator: str) -> float:
    table = stored_indicators.read(con, Scope((month, month), (department,)),
                                   indicators=[indicator])
    return float(table["value"].iloc[0])


def assert_current(con: duckdb.DuckDBPyConnection) -> None:
    """The stored tables (totals and per channel) equal a full recomputation."""
    assert stored_indicators.differences(con).empty


# --- the choice and its factor ----------------------------------------------------------------


@pytest.mark.parametrize(("counted_at", "factor"), [
    ("front_line", 1 / 0.5),  # about half of the customers with a problem tell the front line
    ("head_office", 1 / 0.04),  # 4 %: inside the 1–5 % that reach head office
    ("custom", 7),  # the analyst's own number
])
def test_each_choice_gives_its_factor_and_the_dissatisfied_customers(tmp_path, counted_at, factor):
    con = _db(tmp_path, [("iceberg_counted_at", counted_at, "*"), ("iceberg_factor", 7, "*")])
    try:
        settings = store.read_settings(con)
        assert (settings.iceberg_counted_at, settings.iceberg_factor) == (counted_at, factor)
        assert _stored(con, "2025-01", "A", "estimated_dissatisfied") == 3 * factor
        assert _stored(con, "2025-01", "All", "estimated_dissatisfied") == 3 * factor
        assert _stored(con, "2025-01", "B", "estimated_dissatisfied") == 0 * factor
    finally:
        con.close()


def test_the_evidence_gives_head_office_a_range_and_the_front_line_none():
    assert iceberg.factor_range("head_office") == (1 / 0.05, 1 / 0.01)  # 5 % … 1 % reach it
    assert iceberg.factor_range("front_line") is None
    assert iceberg.factor_range("custom") is None
    # the figures: 38 complaints at head office
    assert 38 * iceberg.factor("head_office", custom=10) == 38 * 25 == 950
    assert [38 * f for f in iceberg.factor_range("head_office")] == [38 * 20, 38 * 100]


# --- revenue at risk ----------------------------------------------------------------------------


def test_revenue_at_risk_by_hand(tmp_path):
    con = _db(tmp_path, [("dissatisfied_leave_share", 50, "*")])  # front line ×2 by default
    try:
        # 3 complaints × 2 = 6 dissatisfied; half leave; each took 1,000 ÷ 8 = 125
        assert _stored(con, "2025-01", "A", "revenue_at_risk") == 3 * 2 * 0.5 * (1000 / 8) == 375
        # All: the same 3 complaints, revenue 1,040 over 9 customers
        assert math.isclose(_stored(con, "2025-01", "All", "revenue_at_risk"),
                            3 * 2 * 0.5 * ((1000 + 40) / 9))
        assert _stored(con, "2025-01", "B", "revenue_at_risk") == 0 * 2 * 0.5 * (40 / 1)
        # February: 2 complaints but no purchase, so no revenue per customer: missing, not 0
        assert math.isnan(_stored(con, "2025-02", "A", "revenue_at_risk"))
        live = compute.indicator_table(con, indicators=["revenue_at_risk"])
        assert live.set_index(["month", "department"]).at[("2025-01", "A"), "value"] == 375
    finally:
        con.close()


def test_the_default_leave_share_is_the_low_end_of_the_evidence(tmp_path):
    con = _db(tmp_path)
    try:
        assert store.read_settings(con).dissatisfied_leave_share == 30
        assert math.isclose(_stored(con, "2025-01", "A", "revenue_at_risk"),
                            3 * 2 * 30 / 100 * (1000 / 8))
    finally:
        con.close()


# --- settings keep the stored table current ----------------------------------------------------


@pytest.mark.parametrize(("key", "value"), [
    ("iceberg_counted_at", "head_office"),
    ("iceberg_counted_at", "custom"),
    ("iceberg_counted_at", "front_line"),
    ("dissatisfied_leave_share", 45),
    ("dissatisfied_leave_share", 0),
    ("dissatisfied_leave_share", 100),
    ("iceberg_factor", 12.5),
])
def test_a_setting_change_keeps_the_stored_table_a_full_recomputation(tmp_path, key, value):
    con = _db(tmp_path, [("iceberg_counted_at", "custom", "*")])
    try:
        store.write_setting(con, key, value)
        assert_current(con)
        s = store.read_settings(con)
        expected = 3 * s.iceberg_factor * s.dissatisfied_leave_share / 100 * (1000 / 8)
        assert math.isclose(_stored(con, "2025-01", "A", "revenue_at_risk"), expected)
    finally:
        con.close()


def test_changing_where_complaints_are_counted_rewrites_both_indicators(tmp_path):
    con = _db(tmp_path, [("dissatisfied_leave_share", 50, "*")])
    try:
        store.write_setting(con, "iceberg_counted_at", "head_office")
        assert _stored(con, "2025-01", "A", "estimated_dissatisfied") == 3 * 25
        assert _stored(con, "2025-01", "A", "revenue_at_risk") == 3 * 25 * 0.5 * 125
        # the custom number waits until it is chosen
        store.write_setting(con, "iceberg_factor", 4)
        assert _stored(con, "2025-01", "A", "estimated_dissatisfied") == 3 * 25
        store.write_setting(con, "iceberg_counted_at", "custom")
        assert _stored(con, "2025-01", "A", "estimated_dissatisfied") == 3 * 4
        assert _stored(con, "2025-01", "A", "revenue_at_risk") == 3 * 4 * 0.5 * 125
        assert_current(con)
    finally:
        con.close()


@pytest.mark.parametrize(("key", "value", "message"), [
    ("iceberg_counted_at", "everywhere", "must be one of front_line, head_office, custom"),
    ("iceberg_counted_at", "", "must be one of front_line, head_office, custom"),
    ("dissatisfied_leave_share", "half", "must be a number"),
    ("dissatisfied_leave_share", "-1", "percent from 0 to 100"),
    ("dissatisfied_leave_share", "100.5", "percent from 0 to 100"),
    ("dissatisfied_leave_share", "nan", "percent from 0 to 100"),
])
def test_a_bad_value_is_refused_clearly_and_nothing_is_written(tmp_path, key, value, message):
    con = _db(tmp_path)
    try:
        settings_before = con.execute("SELECT * FROM settings ORDER BY ALL").fetchall()
        stored_before = stored_indicators.read(con, Scope())
        with pytest.raises(store.SettingError, match=message):
            store.write_setting(con, key, value)
        assert con.execute("SELECT * FROM settings ORDER BY ALL").fetchall() == settings_before
        pd.testing.assert_frame_equal(stored_indicators.read(con, Scope()), stored_before)
    finally:
        con.close()


@pytest.mark.parametrize("key", ["iceberg_counted_at", "dissatisfied_leave_share"])
def test_the_iceberg_settings_apply_to_every_department(tmp_path, key):
    con = _db(tmp_path)
    try:
        with pytest.raises(store.SettingError, match="applies to every department"):
            store.write_setting(con, key, "custom" if key == "iceberg_counted_at" else 40,
                                department="A")
    finally:
        con.close()


# --- new and older databases ------------------------------------------------------------------


def test_a_new_database_counts_at_the_front_line(tmp_path):
    con = store.connect(tmp_path / "new.duckdb")
    try:
        assert con.execute(
            "SELECT value FROM settings WHERE key = 'iceberg_counted_at'").fetchall() == [
            ("front_line",)]
        assert store.read_settings(con).iceberg_factor == 2
    finally:
        con.close()


def _as_before_the_choice(path: Path, *, factor: float | None) -> None:
    """Turn ``path`` into a database as the version before the choice left it: no
    ``iceberg_counted_at`` row (``iceberg_factor`` as given, None: no row), stamped version 5,
    its stored indicators computed with that factor (10 unless set) and without revenue at
    risk."""
    con = store.connect(path)
    try:
        con.execute("DELETE FROM settings WHERE key IN ('iceberg_counted_at', 'iceberg_factor')")
        if factor is not None:
            con.execute("INSERT INTO settings VALUES ('iceberg_factor', '*', ?)", [str(factor)])
        stored_indicators.rebuild(con)  # the old default: a database without the row is custom
        con.execute(f"DELETE FROM {stored_indicators.TABLE} WHERE indicator = 'revenue_at_risk'")
        _stamp_version_5(con)
    finally:
        con.close()


def _stamp_version_5(con: duckdb.DuckDBPyConnection) -> None:
    """The stamp of a database the version before this step left (channels, step 5, its last)."""
    con.execute("DELETE FROM schema_version")
    con.execute("INSERT INTO schema_version VALUES (5, 'channels', TIMESTAMP '2026-01-01')")


@pytest.mark.parametrize(("stored_factor", "kept"), [(None, 10), (12.0, 12)])
def test_an_older_database_keeps_its_factor_as_custom(tmp_path, stored_factor, kept):
    path = make_db(tmp_path / "old.duckdb", ROWS)
    _as_before_the_choice(path, factor=stored_factor)

    reader = store.connect(path, read_only=True)  # before any write: read as it was
    try:
        assert store.read_settings(reader).iceberg_factor == kept
        assert stored_indicators.differences(reader)["indicator"].unique().tolist() == [
            "revenue_at_risk"]  # missing from the stored table only, nothing else moved
    finally:
        reader.close()

    con = store.connect(path)  # opened for writing: migrated
    try:
        assert migrations.stored_version(con) == migrations.SCHEMA_VERSION
        rows = dict(con.execute("SELECT key, value FROM settings WHERE key LIKE 'iceberg%'")
                    .fetchall())
        assert rows["iceberg_counted_at"] == "custom"
        assert float(rows["iceberg_factor"]) == kept
        settings = store.read_settings(con)
        assert (settings.iceberg_counted_at, settings.iceberg_factor) == ("custom", kept)
        assert _stored(con, "2025-01", "A", "estimated_dissatisfied") == 3 * kept
        assert math.isclose(_stored(con, "2025-01", "A", "revenue_at_risk"),
                            3 * kept * 30 / 100 * (1000 / 8))
        assert_current(con)
    finally:
        con.close()


def test_an_older_database_that_had_chosen_keeps_its_choice(tmp_path):
    path = make_db(tmp_path / "old.duckdb", ROWS, [("iceberg_counted_at", "head_office", "*")])
    con = store.connect(path)
    try:
        _stamp_version_5(con)
    finally:
        con.close()
    con = store.connect(path)
    try:
        assert store.read_settings(con).iceberg_counted_at == "head_office"
        assert_current(con)
    finally:
        con.close()
