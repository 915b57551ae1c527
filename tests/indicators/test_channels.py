"""Channels as a dimension (issue 19, part 1): the indicators per department × channel and
All × channel, an empty channel its own value ("not given"), stored and kept current, read by
``report --by channel`` and ``explain --by channel``.

Every expected value is the arithmetic of the small data set below, written out.
"""

from __future__ import annotations

import csv
import doctest
import io
import json
import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from indicators import channels, migrations, store, stored_indicators, undo
from indicators.catalog import NOT_GIVEN
from indicators.explain import ExplainError, explain
from indicators.explain_cli import run_cli as run_explain
from indicators.ingest import ingest_file
from indicators.report import run_report_cli
from indicators.scope import Scope

NG = NOT_GIVEN

HEADERS = {
    "purchases": ("purchase_id", "purchased_at", "customer_id", "department", "amount",
                  "channel"),
    "complaints": ("complaint_id", "opened_at", "department", "customer_id", "component",
                   "resolved_at", "compensation", "channel"),
    "responses": ("request_id", "department", "received_at", "responded_at", "promised_minutes",
                  "channel"),
    "surveys": ("survey_id", "answered_at", "department", "kind", "score", "channel"),
}

# January: North sells on the web (c1 10, c2 30), in store (c1 20) and once without a channel
# (c3 5); South in store (c4 40) and once without a channel (c5 15).  February: North web 60,
# South store 20.
PURCHASES = [
    ("p1", "2025-01-05T10:00:00", "c1", "North", "10", "web"),
    ("p2", "2025-01-06T10:00:00", "c2", "North", "30", "web"),
    ("p3", "2025-01-07T10:00:00", "c1", "North", "20", "store"),
    ("p4", "2025-01-08T10:00:00", "c3", "North", "5", ""),
    ("p5", "2025-01-09T10:00:00", "c4", "South", "40", "store"),
    ("p6", "2025-01-10T10:00:00", "c5", "South", "15", ""),
    ("p7", "2025-02-05T10:00:00", "c1", "North", "60", "web"),
    ("p8", "2025-02-06T10:00:00", "c4", "South", "20", "store"),
]
# k4 (February, by phone: nothing is bought by phone) repeats k1 (same customer and component,
# 30 days before, on the web): a repeat in any channel.
COMPLAINTS = [
    ("k1", "2025-01-11T10:00:00", "North", "c1", "people", "", "2", "web"),
    ("k2", "2025-01-12T10:00:00", "North", "c3", "product", "", "", ""),
    ("k3", "2025-01-13T10:00:00", "South", "c4", "people", "2025-01-14T10:00:00", "4", "store"),
    ("k4", "2025-02-10T10:00:00", "North", "c1", "people", "", "", "phone"),
]
# promise 60 minutes: r1 answered in 30 (kept), r2 in 120 (not), r3 unanswered (not), r4 in 10
RESPONSES = [
    ("r1", "North", "2025-01-15T10:00:00", "2025-01-15T10:30:00", "60", "web"),
    ("r2", "North", "2025-01-15T10:00:00", "2025-01-15T12:00:00", "60", "web"),
    ("r3", "North", "2025-01-15T10:00:00", "", "60", "store"),
    ("r4", "South", "2025-01-15T10:00:00", "2025-01-15T10:10:00", "", ""),
]
# csat: satisfied when 4 or 5
SURVEYS = [
    ("s1", "2025-01-20T10:00:00", "North", "csat", "5", "web"),
    ("s2", "2025-01-20T10:00:00", "North", "csat", "3", "web"),
    ("s3", "2025-01-20T10:00:00", "North", "csat", "4", ""),
    ("s4", "2025-01-20T10:00:00", "South", "csat", "2", "store"),
    ("s5", "2025-02-20T10:00:00", "North", "csat", "5", "web"),
    ("s6", "2025-02-20T10:00:00", "North", "csat", "4", "web"),
    ("s7", "2025-02-20T10:00:00", "South", "csat", "4", "store"),
    ("s8", "2025-02-20T10:00:00", "North", "csat", "1", ""),
]
DATA = {"purchases": PURCHASES, "complaints": COMPLAINTS, "responses": RESPONSES,
        "surveys": SURVEYS}


def write_csv(path: Path, dataset: str, rows: list[tuple], header: tuple[str, ...] | None = None
              ) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header or HEADERS[dataset])
        writer.writerows(rows)
    return path


def load(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    result = ingest_file(con, path, user="test")
    assert result.accepted, result.message
    return result.load_id


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "channels.duckdb"
    con = store.connect(path)
    try:
        for name, rows in DATA.items():
            load(con, write_csv(tmp_path / f"{name}.csv", name, rows))
    finally:
        con.close()
    return path


def values(table: pd.DataFrame) -> dict[tuple[str, str, str, str], float]:
    return {(r.month, r.department, r.channel, r.indicator): r.value
            for r in table.itertuples(index=False)}


def assert_current(con: duckdb.DuckDBPyConnection) -> None:
    found = stored_indicators.differences(con)
    assert found.empty, found.head(10).to_string()


def test_doctests():
    assert doctest.testmod(channels).failed == 0


def test_per_channel_values_by_hand_stored_and_computed(db):
    con = store.connect(db, read_only=True)
    try:
        stored = stored_indicators.read(con, Scope(channels=("web", "store", NG, "phone")))
        computed = channels.channel_indicator_table(con)
    finally:
        con.close()
    pd.testing.assert_frame_equal(stored, computed)
    v = values(stored)
    jan = "2025-01"

    def at(department, channel, indicator, month=jan):
        return v[(month, department, channel, indicator)]

    # purchases and revenue, department × channel and All × channel (not given included)
    assert [at("North", c, "purchases") for c in ("web", "store", NG)] == [2, 1, 1]
    assert [at("North", c, "revenue") for c in ("web", "store", NG)] == [10 + 30, 20, 5]
    assert [at("South", c, "revenue") for c in ("store", NG)] == [40, 15]
    assert [at("All", c, "purchases") for c in ("web", "store", NG)] == [2, 1 + 1, 1 + 1]
    assert [at("All", c, "revenue") for c in ("web", "store", NG)] == [40, 20 + 40, 5 + 15]
    # complaint rate: the channel's complaints per 100 of the channel's purchases
    assert at("North", "web", "complaint_rate") == 1 / 2 * 100
    assert at("North", "store", "complaint_rate") == 0
    assert at("North", NG, "complaint_rate") == 1 / 1 * 100
    assert at("All", "store", "complaint_rate") == 1 / 2 * 100  # k3 over p3, p5
    assert at("All", NG, "complaint_rate") == 1 / 2 * 100  # k2 over p4, p6
    # compensation share likewise: the channel's compensation ÷ the channel's revenue
    assert at("North", "web", "compensation_share") == pytest.approx(2 / 40 * 100)
    assert at("All", "store", "compensation_share") == pytest.approx(4 / 60 * 100)
    # promise kept: North web 1 of 2, store 0 of 1, South not given 1 of 1; no requests: missing
    assert at("North", "web", "promise_kept_rate") == 50
    assert at("North", "store", "promise_kept_rate") == 0
    assert at("South", NG, "promise_kept_rate") == 100
    assert math.isnan(at("North", NG, "promise_kept_rate"))
    assert at("All", "web", "promise_kept_rate") == 50
    assert at("All", NG, "promise_kept_rate") == 100
    # csat on the survey's own channel
    assert at("North", "web", "csat") == 50
    assert at("North", NG, "csat") == 100
    assert math.isnan(at("North", "store", "csat"))
    assert at("South", "store", "csat") == 0
    assert at("All", "store", "csat") == 0
    assert at("All", NG, "csat") == 100
    # growth against the channel's own earlier month
    assert at("North", "web", "revenue_growth_mom", "2025-02") == pytest.approx((60 / 40 - 1) * 100)
    assert at("All", "store", "revenue_growth_mom", "2025-02") == pytest.approx((20 / 60 - 1) * 100)
    # a repeat in any channel: k4 (phone) repeats k1 (web); phone sells nothing: no rate
    assert at("North", "phone", "repeat_complaint_rate", "2025-02") == 100
    assert math.isnan(at("North", "phone", "complaint_rate", "2025-02"))


def test_the_rows_that_exist_and_the_indicators_not_per_channel(db):
    con = store.connect(db, read_only=True)
    try:
        table = stored_indicators.read(con, Scope(channels=("web", "store", NG, "phone")))
        assert stored_indicators.channels(con) == sorted(["web", "store", NG, "phone"])
    finally:
        con.close()
    combos = set(zip(table["month"], table["department"], table["channel"], strict=True))
    assert combos == {
        ("2025-01", "North", "web"), ("2025-01", "North", "store"), ("2025-01", "North", NG),
        ("2025-01", "South", "store"), ("2025-01", "South", NG),
        ("2025-01", "All", "web"), ("2025-01", "All", "store"), ("2025-01", "All", NG),
        # February: North's web purchase and surveys, k4 by phone, s8 without a channel
        ("2025-02", "North", "web"), ("2025-02", "North", "phone"), ("2025-02", "North", NG),
        ("2025-02", "South", "store"),
        ("2025-02", "All", "web"), ("2025-02", "All", "store"), ("2025-02", "All", "phone"),
        ("2025-02", "All", NG),
    }
    assert set(table["indicator"]) == set(channels.CHANNEL_INDICATORS)
    assert not {"new_customers", "returning_customers_rate", "retention_rate"} & set(
        table["indicator"])
    assert len(table) == len(combos) * len(channels.CHANNEL_INDICATORS)


def test_a_scope_narrows_months_departments_and_channels(db):
    con = store.connect(db, read_only=True)
    try:
        scope = Scope(("2025-02", "2025-02"), ("South", "All"), ("store",))
        table = stored_indicators.read(con, scope, indicators=["revenue"])
        live = channels.channel_indicator_table(con, months=scope.months,
                                                departments=scope.departments,
                                                channels=scope.channels, indicators=["revenue"])
    finally:
        con.close()
    assert table.to_dict("records") == [
        {"month": "2025-02", "department": "All", "channel": "store", "indicator": "revenue",
         "value": 20.0},
        {"month": "2025-02", "department": "South", "channel": "store", "indicator": "revenue",
         "value": 20.0},
    ]
    pd.testing.assert_frame_equal(table, live)


def test_a_survey_file_without_a_channel_column_loads_as_not_given(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    try:
        load(con, write_csv(tmp_path / "s.csv", "surveys", [
            ("s1", "2025-01-20T10:00:00", "North", "csat", "5"),
            ("s2", "2025-01-21T10:00:00", "North", "csat", "1"),
        ], header=HEADERS["surveys"][:-1]))
        table = stored_indicators.read(con, Scope(channels=(NG,)), indicators=["csat"])
        assert_current(con)
    finally:
        con.close()
    assert values(table) == {("2025-01", "All", NG, "csat"): 50.0,
                             ("2025-01", "North", NG, "csat"): 50.0}


def test_incremental_refresh_equals_a_rebuild_after_a_load_an_undo_and_settings(db, tmp_path):
    con = store.connect(db)
    try:
        assert_current(con)
        before = stored_indicators.read(con, Scope(channels=("web", "store", NG, "phone")))
        # January North's purchases again: a new channel (phone); none in store or without a
        # channel any more
        load_id = load(con, write_csv(tmp_path / "again.csv", "purchases", [
            ("p9", "2025-01-25T10:00:00", "c9", "North", "7", "phone"),
            ("p10", "2025-01-26T10:00:00", "c1", "North", "3", "web"),
        ]))
        assert_current(con)
        after = values(stored_indicators.read(con, Scope(channels=("phone", "web", "store"))))
        assert after[("2025-01", "North", "phone", "purchases")] == 1
        assert after[("2025-01", "North", "web", "revenue")] == 3
        assert after[("2025-01", "All", "store", "purchases")] == 1  # South's p5 alone
        # North × store keeps its January row: r3 (a request in store) is still there
        assert after[("2025-01", "North", "store", "purchases")] == 0
        undo.undo_load(con, load_id, user="test")
        assert_current(con)
        pd.testing.assert_frame_equal(
            stored_indicators.read(con, Scope(channels=("web", "store", NG, "phone"))), before)
        store.write_setting(con, "iceberg_counted_at", "custom")
        store.write_setting(con, "iceberg_factor", 2.7)
        store.write_setting(con, "promised_minutes", 5, department="South")
        assert_current(con)
        v = values(stored_indicators.read(con, Scope(channels=("web", NG, "phone"))))
        assert v[("2025-01", "North", "web", "estimated_dissatisfied")] == 1 * 2.7
        assert v[("2025-02", "All", "phone", "estimated_dissatisfied")] == 1 * 2.7
        assert v[("2025-01", "South", NG, "promise_kept_rate")] == 0  # 10 minutes > 5
        # retention carries no channel: a load of it leaves the per-channel rows as they were
        channel_rows = stored_indicators.read(con, Scope(channels=("web", "store", NG, "phone")))
        path = tmp_path / "retention.csv"
        path.write_text("month,department,customers_start,customers_end,new_customers\n"
                        "2025-03,East,10,9,1\n", encoding="utf-8")
        load(con, path)
        assert_current(con)
        pd.testing.assert_frame_equal(
            stored_indicators.read(con, Scope(("2025-01", "2025-02"),
                                              channels=("web", "store", NG, "phone"))),
            channel_rows)
        # a month of surveys alone brings a channel to a department
        load(con, write_csv(tmp_path / "more.csv", "surveys", [
            ("s9", "2025-02-21T10:00:00", "South", "csat", "5", "kiosk"),
        ]))
        assert_current(con)
        v = values(stored_indicators.read(con, Scope(channels=("kiosk",))))
        assert v[("2025-02", "South", "kiosk", "csat")] == 100
        assert v[("2025-02", "South", "kiosk", "purchases")] == 0
    finally:
        con.close()


def test_check_finds_a_wrong_or_doubled_channel_cell(db):
    con = store.connect(db)
    try:
        con.execute("UPDATE indicator_values_by_channel SET value = 1 WHERE month = '2025-01' "
                    "AND department = 'North' AND channel = 'web' AND indicator = 'purchases'")
        con.execute("INSERT INTO indicator_values_by_channel SELECT * FROM "
                    "indicator_values_by_channel WHERE month = '2025-02' AND department = 'All' "
                    "AND channel = 'web' AND indicator = 'revenue'")
        found = stored_indicators.differences(con)
        problems = stored_indicators.check_problems(con)
    finally:
        con.close()
    assert list(zip(found["month"], found["department"], found["channel"], found["indicator"],
                    strict=True)) == [("2025-01", "North", "web", "purchases"),
                                      ("2025-02", "All", "web", "revenue")]
    assert found["computed"].tolist() == [2.0, 60.0]
    assert problems and "2025-01 North web purchases: stored 1.0, computed 2.0" in problems[-1]


def test_an_older_database_gets_the_survey_channel_and_the_channel_table(db):
    con = store.connect(db)
    try:
        expected = stored_indicators.read(con, Scope(channels=("web", "store", NG, "phone")))
        # as version 4 left it: surveys without a channel, no per-channel table
        con.execute("DROP TABLE indicator_values_by_channel")
        for table in ("surveys", "removed_surveys"):
            con.execute(f"ALTER TABLE {table} DROP COLUMN channel")
        con.execute("DELETE FROM schema_version")
        con.execute("INSERT INTO schema_version VALUES (4, 'target shapes and owners', "
                    "TIMESTAMP '2025-06-01 00:00:00')")
    finally:
        con.close()
    # read-only, not upgraded: computed live, every survey answer "not given"
    con = store.connect(db, read_only=True)
    try:
        live = stored_indicators.read(con, Scope(channels=(NG, "web")), indicators=["csat"])
    finally:
        con.close()
    # all four January North answers are "not given" now: 5, 3, 4 → 2 of 3 satisfied
    assert values(live)[("2025-01", "North", NG, "csat")] == pytest.approx(2 / 3 * 100)
    assert math.isnan(values(live)[("2025-01", "North", "web", "csat")])
    con = store.connect(db)  # opened for writing: migrated
    try:
        assert migrations.stored_version(con) == migrations.SCHEMA_VERSION
        assert channels.channel_columns(con)["surveys"]
        assert stored_indicators.channel_table_exists(con)
        assert_current(con)
        migrated = stored_indicators.read(con, Scope(channels=("web", "store", NG, "phone")))
    finally:
        con.close()
    csat = migrated[migrated["indicator"] == "csat"]
    assert values(csat)[("2025-01", "North", NG, "csat")] == pytest.approx(2 / 3 * 100)
    # s7 (South, store, February) is "not given" now: South × not given has a February row
    keys = ["month", "department", "channel"]
    assert set(map(tuple, migrated[keys].to_numpy())) - set(map(tuple, expected[keys].to_numpy())
                                                            ) == {("2025-02", "South", NG)}
    # and the other indicators keep their values
    both = expected.merge(migrated, on=[*keys, "indicator"], suffixes=("", "_migrated"))
    others = both[both["indicator"] != "csat"]
    assert len(others) == len(expected) - len(expected[expected["indicator"] == "csat"])
    pd.testing.assert_series_equal(others["value"], others["value_migrated"], check_names=False)


def report(db: Path, **options) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_report_cli(db, out=out, err=err, **{"month": None, "department": None,
                                                   "fmt": "csv", **options})
    return code, out.getvalue(), err.getvalue()


def test_report_by_channel_rows_by_hand(db):
    code, out, _ = report(db, month="2025-01", indicator="revenue", by="channel")
    assert code == 0
    assert out.split("\r\n") == [
        "month,department,channel,indicator,value,complete",
        # All first, then departments by name; channels by name, "not given" among them
        "2025-01,All,not given,revenue,20,true",
        "2025-01,All,store,revenue,60,true",
        "2025-01,All,web,revenue,40,true",
        "2025-01,North,not given,revenue,5,true",
        "2025-01,North,store,revenue,20,true",
        "2025-01,North,web,revenue,40,true",
        "2025-01,South,not given,revenue,15,true",
        "2025-01,South,store,revenue,40,true",
        "",
    ]
    code, out, _ = report(db, month="2025-02", department="South", by="channel", fmt="json",
                          indicator="csat")
    assert code == 0
    # South's February lacks complaints and responses: not complete (the department's flag)
    assert json.loads(out) == [{"month": "2025-02", "department": "South", "channel": "store",
                                "indicator": "csat", "value": 100, "complete": False}]
    # without --by the report is as before: no channel column
    code, out, _ = report(db, month="2025-01", department="All", indicator="revenue")
    assert out.split("\r\n")[:2] == ["month,department,indicator,value,complete",
                                     "2025-01,All,revenue,120,true"]


def test_report_by_channel_neutralises_a_formula_like_channel(tmp_path):
    con = store.connect(tmp_path / "f.duckdb")
    try:
        load(con, write_csv(tmp_path / "p.csv", "purchases", [
            ("p1", "2025-01-05T10:00:00", "c1", "North", "10", "=HYPERLINK(1)"),
        ]))
    finally:
        con.close()
    code, out, _ = report(tmp_path / "f.duckdb", indicator="purchases", by="channel")
    assert code == 0
    assert "2025-01,All,'=HYPERLINK(1),purchases,1,true" in out.split("\r\n")


def explained(db: Path, **options) -> dict:
    out, err = io.StringIO(), io.StringIO()
    code = run_explain(db, out=out, err=err, **{"department": None, "by": "channel",
                                                "against": "previous", "fmt": "json",
                                                **options})
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def test_explain_by_channel_adds_up_by_hand(db):
    # revenue of All: web 40 → 60, store 60 → 20, not given 20 → 0 (February sold nothing
    # without a channel); 120 → 80
    doc = explained(db, indicator="revenue", month="2025-02")
    parts = {s["segment"]: s["contribution"] for s in doc["segments"]}
    assert parts == {"web": 60 - 40, "store": 20 - 60, NG: 0 - 20, "phone": 0}
    assert doc["total_change"] == 80 - 120 == sum(parts.values())
    # North alone: web 40 → 60, store 20 → 0, not given 5 → 0
    doc = explained(db, indicator="revenue", month="2025-02", department="North")
    parts = {s["segment"]: s["contribution"] for s in doc["segments"]}
    assert parts == {"web": 20, "store": -20, NG: -5, "phone": 0}
    assert doc["total_change"] == 60 - 65
    # csat of All 2 of 4 (50) → 3 of 4 (75); weights ½, ¼, ¼ both months; rates web 50 → 100,
    # store 0 → 100, not given 100 → 0: no mix, every change is rate
    doc = explained(db, indicator="csat", month="2025-02")
    parts = {s["segment"]: s for s in doc["segments"]}
    assert parts["web"]["rate_effect"] == pytest.approx((100 - 50) * (1 / 2 + 1 / 2) / 2)
    assert parts["store"]["rate_effect"] == pytest.approx((100 - 0) * (1 / 4 + 1 / 4) / 2)
    assert parts[NG]["rate_effect"] == pytest.approx((0 - 100) * (1 / 4 + 1 / 4) / 2)
    assert all(p["mix_effect"] == pytest.approx(0) for p in parts.values())
    assert doc["total_change"] == pytest.approx(75 - 50)
    assert sum(p["contribution"] for p in parts.values()) == pytest.approx(25)


def test_explain_by_channel_refuses_what_has_no_channel_rate(db):
    con = store.connect(db, read_only=True)
    try:
        # k4 was made by phone, where nothing is bought: no channel's complaint rate holds it
        with pytest.raises(ExplainError, match="'phone' has complaints but no purchases"):
            explain(con, indicator="complaint_rate", month="2025-02", by="channel")
        with pytest.raises(ExplainError, match="not computed per channel"):
            explain(con, indicator="retention_rate", month="2025-02", by="channel")
        with pytest.raises(ExplainError, match="a median is not a sum"):
            explain(con, indicator="response_time_median", month="2025-02", by="channel")
    finally:
        con.close()


def test_growth_a_year_on_follows_a_load_of_the_earlier_month(tmp_path):
    con = store.connect(tmp_path / "g.duckdb")
    try:
        load(con, write_csv(tmp_path / "a.csv", "purchases", [
            ("p1", "2024-01-05T10:00:00", "c1", "North", "10", "web"),
            ("p2", "2025-01-05T10:00:00", "c1", "North", "30", "web"),
            ("p3", "2025-01-06T10:00:00", "c2", "North", "8", "store"),
        ]))
        v = values(stored_indicators.read(con, Scope(channels=("web", "store"))))
        assert v[("2025-01", "North", "web", "revenue_growth_yoy")] == pytest.approx(
            (30 / 10 - 1) * 100)
        assert math.isnan(v[("2025-01", "North", "store", "revenue_growth_yoy")])  # none then
        assert math.isnan(v[("2025-01", "North", "web", "revenue_growth_mom")])  # 2024-12: 0
        # 2024-01 again, 20 on the web: the year-on growth of 2025-01 follows (a scoped write)
        load(con, write_csv(tmp_path / "b.csv", "purchases", [
            ("p1b", "2024-01-07T10:00:00", "c1", "North", "20", "web"),
        ]))
        assert_current(con)
        v = values(stored_indicators.read(con, Scope(channels=("web",))))
        assert v[("2025-01", "All", "web", "revenue_growth_yoy")] == pytest.approx(
            (30 / 20 - 1) * 100)
    finally:
        con.close()


def test_a_load_rewrites_the_per_channel_indicators_that_read_it_and_the_new_keys_whole(
        db, tmp_path):
    """February's surveys again (North web: 5 and 1; a kiosk answer): North × web's CSAT is
    rewritten, its purchases are not (a marker written beforehand stays: the load did not
    recompute them); North × kiosk, a key new to the table, gets every per-channel indicator;
    North × not given, whose only February row was s8, has no row any more."""
    con = store.connect(db)
    try:
        marker = ("UPDATE indicator_values_by_channel SET value = 999 WHERE month = '2025-02' "
                  "AND department = 'North' AND channel = 'web' AND indicator = 'purchases'")
        con.execute(marker)
        load(con, write_csv(tmp_path / "again.csv", "surveys", [
            ("s9", "2025-02-21T10:00:00", "North", "csat", "5", "web"),
            ("s10", "2025-02-21T10:00:00", "North", "csat", "1", "web"),
            ("s11", "2025-02-21T10:00:00", "North", "csat", "4", "kiosk"),
            ("s12", "2025-02-21T10:00:00", "South", "csat", "4", "store"),
        ]))
        v = values(stored_indicators.read(con, Scope(("2025-02", "2025-02"),
                                                    channels=("web", "kiosk", NG, "phone"))))
        assert v[("2025-02", "North", "web", "csat")] == 1 / 2 * 100  # 5 satisfied, 1 not
        assert v[("2025-02", "North", "web", "purchases")] == 999  # not rewritten
        assert v[("2025-02", "North", "kiosk", "csat")] == 100
        assert v[("2025-02", "North", "kiosk", "purchases")] == 0
        assert v[("2025-02", "North", "kiosk", "revenue")] == 0
        assert math.isnan(v[("2025-02", "North", "kiosk", "revenue_growth_mom")])
        assert v[("2025-02", "North", "kiosk", "complaints")] == 0
        assert v[("2025-02", "North", "phone", "complaints")] == 1  # k4, untouched
        assert not any(k[1:3] == ("North", NG) for k in v)  # s8 replaced: no row there
        assert v[("2025-02", "All", "kiosk", "csat")] == 100
        con.execute(marker.replace("999", "1"))  # February North web: p7 alone
        assert_current(con)
    finally:
        con.close()
