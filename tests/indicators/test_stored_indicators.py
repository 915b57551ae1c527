"""The stored indicator table (issue 17, item 1): kept current by loads, undos and settings,
incrementally, equal to a full recomputation; readers see one version of data and indicators."""

from __future__ import annotations

import csv
import math
import threading
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from indicators import compute, store, stored_indicators, undo
from indicators.__main__ import main
from indicators.ingest import ingest_file
from indicators.scope import Scope

HEADERS = {
    "purchases": ("purchase_id", "purchased_at", "customer_id", "department", "amount"),
    "complaints": ("complaint_id", "opened_at", "department", "customer_id", "component"),
    "surveys": ("survey_id", "answered_at", "department", "kind", "score"),
}
# the property test's files: complaints resolved (or not) days later, requests with customers
PLAN_HEADERS = {
    **HEADERS,
    "complaints": (*HEADERS["complaints"], "resolved_at"),
    "responses": ("request_id", "department", "received_at", "responded_at", "customer_id"),
}


def write_csv(path: Path, dataset: str, rows: list[tuple], *, channel: bool = False,
              headers: dict[str, tuple[str, ...]] = HEADERS) -> Path:
    """``rows`` under ``dataset``'s header (with ``channel`` last, when ``channel``)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow((*headers[dataset], *(("channel",) if channel else ())))
        writer.writerows(rows)
    return path


def load(con: duckdb.DuckDBPyConnection, path: Path, **kwargs) -> int:
    result = ingest_file(con, path, user="test", **kwargs)
    assert result.accepted, result.message
    return result.load_id


def stored(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT month, department, indicator, value FROM indicator_values ORDER BY ALL"
    ).df()


def value(con: duckdb.DuckDBPyConnection, month: str, department: str, indicator: str) -> float:
    found = con.execute(
        "SELECT value FROM indicator_values WHERE month = ? AND department = ? AND indicator = ?",
        [month, department, indicator],
    ).fetchall()
    assert len(found) == 1, (month, department, indicator, found)
    return math.nan if found[0][0] is None else found[0][0]


def assert_current(con: duckdb.DuckDBPyConnection) -> None:
    """The stored table equals a full recomputation, value for value (NULL = NULL)."""
    found = stored_indicators.differences(con)
    assert found.empty, found.head(10).to_string()
    pd.testing.assert_frame_equal(stored_indicators.row_counts(con), store.row_counts(con))


@pytest.fixture
def con(tmp_path):
    con = store.connect(tmp_path / "service.duckdb")
    yield con
    con.close()


def test_a_new_database_stores_an_empty_table_and_a_load_fills_it(con, tmp_path):
    assert stored_indicators.exists(con) and stored(con).empty
    load(con, write_csv(tmp_path / "p.csv", "purchases", [
        ("p1", "2025-01-05T10:00:00", "c1", "North", "10.50"),
        ("p2", "2025-01-06T10:00:00", "c2", "North", "4.50"),
        ("p3", "2025-02-07T10:00:00", "c1", "South", "5.00"),
    ]))
    # 2 months × (All, North, South) × every indicator
    assert len(stored(con)) == 2 * 3 * len(compute.FORMULAS)
    assert value(con, "2025-01", "North", "revenue") == 10.5 + 4.5
    assert value(con, "2025-01", "North", "average_ticket") == (10.5 + 4.5) / 2
    assert value(con, "2025-02", "All", "revenue") == 5.0
    assert math.isnan(value(con, "2025-02", "North", "average_ticket"))  # 0 purchases: missing
    assert_current(con)


def test_a_purchase_moved_into_an_earlier_month_changes_new_customers_of_later_months(con, tmp_path):
    load(con, write_csv(tmp_path / "a.csv", "purchases", [
        ("p1", "2025-03-05T10:00:00", "c1", "North", "10"),
        ("p2", "2025-03-06T10:00:00", "c2", "North", "10"),
        ("p3", "2025-04-06T10:00:00", "c3", "South", "10"),
    ]))
    assert value(con, "2025-03", "North", "new_customers") == 2
    # c1 bought in January too (a file of January only): in March c1 is no longer new
    load(con, write_csv(tmp_path / "b.csv", "purchases", [
        ("p0", "2025-01-20T10:00:00", "c1", "North", "3"),
    ]))
    assert value(con, "2025-01", "North", "new_customers") == 1
    assert value(con, "2025-03", "North", "new_customers") == 2 - 1
    assert value(con, "2025-03", "All", "new_customers") == 2 - 1
    # February is new to the table: zero purchases in every department
    assert value(con, "2025-02", "South", "purchases") == 0
    assert_current(con)


def test_growth_a_year_later_follows_a_load_of_an_old_month(con, tmp_path):
    load(con, write_csv(tmp_path / "a.csv", "purchases", [
        ("p1", "2024-01-05T10:00:00", "c1", "North", "50"),
        ("p2", "2025-01-05T10:00:00", "c1", "North", "80"),
    ]))
    assert value(con, "2025-01", "North", "revenue_growth_yoy") == pytest.approx(100 * (80 - 50) / 50)
    # 2024-01 replaced: revenue 40 then; growth at 2025-01 (12 months on) follows
    load(con, write_csv(tmp_path / "b.csv", "purchases", [
        ("p1b", "2024-01-07T10:00:00", "c1", "North", "40"),
    ]))
    assert value(con, "2025-01", "North", "revenue_growth_yoy") == pytest.approx(100 * (80 - 40) / 40)
    assert_current(con)


def test_a_complaint_changes_repeats_in_another_department_up_to_three_months_on(con, tmp_path):
    load(con, write_csv(tmp_path / "a.csv", "complaints", [
        ("k2", "2025-04-10T10:00:00", "South", "x", "people"),
        ("k3", "2025-05-10T10:00:00", "South", "y", "people"),
    ]))
    assert value(con, "2025-04", "South", "repeat_complaint_rate") == 0
    # x complained about people in North on 2025-01-20: 80 days before 2025-04-10, a repeat
    load(con, write_csv(tmp_path / "b.csv", "complaints", [
        ("k1", "2025-01-20T10:00:00", "North", "x", "people"),
    ]))
    assert value(con, "2025-04", "South", "repeat_complaint_rate") == 100 * 1 / 1
    assert value(con, "2025-04", "All", "repeat_complaint_rate") == 100 * 1 / 1
    assert_current(con)


def test_an_open_complaint_of_an_old_month_is_in_the_backlog_of_every_later_month(con, tmp_path):
    headers = {"complaints": (*HEADERS["complaints"], "resolved_at")}
    load(con, write_csv(tmp_path / "a.csv", "complaints", [
        ("k2", "2025-06-10T10:00:00", "North", "y", "people", ""),
        ("k3", "2025-06-11T10:00:00", "South", "z", "people", "2025-06-12T10:00:00"),
    ], headers=headers))
    assert value(con, "2025-06", "North", "complaint_backlog") == 1
    # January: five months before June, beyond the repeat window's three
    load(con, write_csv(tmp_path / "b.csv", "complaints", [
        ("k1", "2025-01-20T10:00:00", "North", "x", "product", ""),
    ], headers=headers))
    assert value(con, "2025-06", "North", "complaint_backlog") == 1 + 1
    assert value(con, "2025-06", "All", "complaint_backlog") == 1 + 1
    assert value(con, "2025-06", "South", "complaint_backlog") == 0
    assert_current(con)


def test_first_contact_resolution_follows_contacts_in_other_departments_and_later_months(
        con, tmp_path):
    headers = {"complaints": (*HEADERS["complaints"], "resolved_at"),
               "responses": ("request_id", "department", "received_at", "responded_at",
                             "customer_id")}
    load(con, write_csv(tmp_path / "a.csv", "complaints", [
        ("k1", "2025-01-05T10:00:00", "North", "c1", "people", "2025-01-06T10:00:00"),
    ], headers=headers))
    # the latest contact stored is k1 itself: January is not judged yet
    assert math.isnan(value(con, "2025-01", "North", "first_contact_resolution"))
    load(con, write_csv(tmp_path / "b.csv", "responses", [
        ("r1", "East", "2025-02-20T10:00:00", "", "c9"),
    ], headers=headers))
    # 7 days after January's end have passed by r1, and c1 came back within none of them
    assert value(con, "2025-01", "North", "first_contact_resolution") == 100 * 1 / 1
    # c1 asks South something 3 days after k1 was resolved: k1 was not resolved at first contact
    load(con, write_csv(tmp_path / "c.csv", "responses", [
        ("r2", "South", "2025-01-09T10:00:00", "2025-01-09T11:00:00", "c1"),
    ], headers=headers))
    assert value(con, "2025-01", "North", "first_contact_resolution") == 100 * 0 / 1
    assert_current(con)


def test_a_contact_closed_late_is_judged_again_when_a_later_month_arrives(con, tmp_path):
    headers = {"complaints": (*HEADERS["complaints"], "resolved_at"),
               "responses": ("request_id", "department", "received_at", "responded_at",
                             "customer_id")}
    # January's complaint is resolved only on 2025-04-02; the latest contact is 2025-03-30
    load(con, write_csv(tmp_path / "a.csv", "complaints", [
        ("k1", "2025-01-10T10:00:00", "North", "c1", "people", "2025-04-02T10:00:00"),
    ], headers=headers))
    load(con, write_csv(tmp_path / "b.csv", "responses", [
        ("r1", "South", "2025-03-30T10:00:00", "2025-03-30T11:00:00", "c2"),
    ], headers=headers))
    # 7 days after 04-02 have not passed by 03-30: January holds no judged contact
    assert math.isnan(value(con, "2025-01", "North", "first_contact_resolution"))
    # April: c1 asks again 3 days after the resolution; c3 on 04-20 carries the data past it
    load(con, write_csv(tmp_path / "c.csv", "responses", [
        ("r2", "East", "2025-04-05T10:00:00", "2025-04-05T11:00:00", "c1"),
        ("r3", "East", "2025-04-20T10:00:00", "", "c3"),
    ], headers=headers))
    assert value(con, "2025-01", "North", "first_contact_resolution") == 100 * 0 / 1
    assert value(con, "2025-01", "All", "first_contact_resolution") == 100 * 0 / 1
    assert_current(con)


def test_a_survey_load_rewrites_its_month_alone(con, tmp_path):
    load(con, write_csv(tmp_path / "a.csv", "surveys", [
        ("s1", "2025-01-05T10:00:00", "North", "csat", 5),
        ("s2", "2025-02-05T10:00:00", "North", "csat", 2),
        ("s3", "2025-03-05T10:00:00", "North", "csat", 4),
    ]))
    before = stored(con)
    load(con, write_csv(tmp_path / "b.csv", "surveys", [
        ("s4", "2025-02-06T10:00:00", "North", "csat", 5),
    ]))
    after = stored(con)
    changed = before.merge(after, on=["month", "department", "indicator"], suffixes=("_b", "_a"))
    moved = changed[~((changed["value_b"] == changed["value_a"])
                      | (changed["value_b"].isna() & changed["value_a"].isna()))]
    assert set(moved["month"]) == {"2025-02"}
    assert value(con, "2025-02", "North", "csat") == 100 * 1 / 1  # 5 is satisfied, 2 replaced
    assert_current(con)


def test_undo_and_settings_keep_the_table_current(con, tmp_path):
    first = load(con, write_csv(tmp_path / "a.csv", "complaints", [
        ("k1", "2025-01-20T10:00:00", "North", "x", "people"),
    ]))
    load(con, write_csv(tmp_path / "p.csv", "purchases", [
        ("p1", "2025-01-05T10:00:00", "c1", "North", "10"),
        ("p2", "2025-02-05T10:00:00", "c1", "South", "10"),
    ]))
    second = load(con, write_csv(tmp_path / "b.csv", "complaints", [
        ("k2", "2025-02-10T10:00:00", "South", "x", "people"),
    ]))
    store.write_setting(con, "iceberg_counted_at", "custom")
    assert value(con, "2025-01", "North", "estimated_dissatisfied") == 1 * 10  # iceberg 10
    store.write_setting(con, "iceberg_factor", 25)
    assert value(con, "2025-01", "North", "estimated_dissatisfied") == 1 * 25
    assert_current(con)
    undo.undo_load(con, second, user="test")
    assert value(con, "2025-02", "South", "complaints") == 0
    assert_current(con)
    undo.undo_load(con, first, user="test")
    assert value(con, "2025-01", "North", "complaints") == 0
    assert_current(con)
    store.delete_setting(con, "iceberg_factor", department="*")
    assert_current(con)


def test_a_refused_setting_changes_neither_the_setting_nor_the_table(con, tmp_path):
    load(con, write_csv(tmp_path / "a.csv", "complaints", [
        ("k1", "2025-01-20T10:00:00", "North", "x", "people"),
    ]))
    before = stored(con)
    with pytest.raises(store.SettingError):
        store.write_setting(con, "iceberg_factor", -1)
    pd.testing.assert_frame_equal(stored(con), before)


def test_read_narrows_in_sql_and_equals_the_engine(con, tmp_path):
    load(con, write_csv(tmp_path / "a.csv", "purchases", [
        ("p1", "2025-01-05T10:00:00", "c1", "North", "10"),
        ("p2", "2025-02-05T10:00:00", "c1", "South", "20"),
        ("p3", "2025-03-05T10:00:00", "c2", "South", "30"),
    ]))
    scope = Scope(("2025-02", "2025-03"), ("South", "All"))
    got = stored_indicators.read(con, scope)
    expected = compute.indicator_table(con, months=scope.months, departments=scope.departments)
    pd.testing.assert_frame_equal(got, expected)
    assert list(got["department"].unique()) == ["All", "South"]  # All first
    only = stored_indicators.read(con, scope, indicators=["revenue"])
    assert only["value"].tolist() == [20.0, 20.0, 30.0, 30.0]


def test_readers_see_old_indicators_with_old_data_until_the_commit(con, tmp_path):
    load(con, write_csv(tmp_path / "a.csv", "purchases", [
        ("p1", "2025-01-05T10:00:00", "c1", "North", "10"),
    ]))
    seen: dict[str, tuple] = {}

    def look(point: str) -> None:
        if point != "indicators_kept":
            return
        reader = con.cursor()  # another connection to the same database, as a page's
        try:
            reader.execute("BEGIN TRANSACTION")
            rows = reader.execute("SELECT count(*) FROM purchases").fetchone()[0]
            revenue = reader.execute(
                "SELECT value FROM indicator_values WHERE month = '2025-01' "
                "AND department = 'All' AND indicator = 'revenue'"
            ).fetchone()[0]
            reader.execute("COMMIT")
        finally:
            reader.close()
        seen[point] = (rows, revenue)

    worker = threading.Thread(target=load, args=(con, write_csv(
        tmp_path / "b.csv", "purchases", [("p2", "2025-01-06T10:00:00", "c2", "South", "5")]
    )), kwargs={"checkpoint": look})
    worker.start()
    worker.join()
    assert seen["indicators_kept"] == (1, 10.0)  # the old data and the old indicators
    assert value(con, "2025-01", "All", "revenue") == 10.0 + 5.0  # both new after the COMMIT


def test_check_finds_a_stale_table_and_rebuild_mends_it(tmp_path, capsys):
    db = tmp_path / "service.duckdb"
    con = store.connect(db)
    load(con, write_csv(tmp_path / "a.csv", "purchases", [
        ("p1", "2025-01-05T10:00:00", "c1", "North", "10"),
    ]))
    # a write outside the product: the table no longer matches the data
    con.execute("UPDATE indicator_values SET value = 99 WHERE indicator = 'revenue' "
                "AND department = 'All'")
    con.close()
    assert main(["check", "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert "differs from a full recomputation in 1 cell" in out
    assert "2025-01 All revenue: stored 99.0, computed 10.0" in out
    assert main(["rebuild", "--db", str(db)]) == 0
    assert main(["check", "--db", str(db)]) == 0


def test_an_older_database_gets_the_table_filled_at_its_next_write(tmp_path):
    db = tmp_path / "service.duckdb"
    con = store.connect(db)
    load(con, write_csv(tmp_path / "a.csv", "purchases", [
        ("p1", "2025-01-05T10:00:00", "c1", "North", "10"),
    ]))
    # as version 2 left it: no stored table, stamped at version 2
    con.execute("DROP TABLE indicator_values")
    con.execute("DELETE FROM schema_version WHERE version > 2")
    con.close()
    ro = store.connect(db, read_only=True)
    try:
        assert not stored_indicators.exists(ro)
        live = stored_indicators.read(ro, Scope(("2025-01", "2025-01"), ("All",)), indicators=["revenue"])
        assert live["value"].tolist() == [10.0]  # computed live, the same value
    finally:
        ro.close()
    con = store.connect(db)
    try:
        assert value(con, "2025-01", "All", "revenue") == 10.0
        assert_current(con)
    finally:
        con.close()


# --- the property: any sequence of changes leaves the table equal to a full recomputation ----

DEPARTMENTS = ("North", "South", "East")
MONTHS = ("2024-11", "2024-12", "2025-01", "2025-02", "2025-03")
CUSTOMERS = ("c1", "c2", "c3")

slices = st.lists(
    st.tuples(st.sampled_from(MONTHS), st.sampled_from(DEPARTMENTS),
              st.lists(st.tuples(st.integers(1, 28), st.sampled_from(CUSTOMERS),
                                 st.integers(1, 500)), min_size=1, max_size=3)),
    min_size=1, max_size=3,
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("purchases"), slices),
        st.tuples(st.just("complaints"), slices),
        st.tuples(st.just("surveys"), slices),
        st.tuples(st.just("responses"), slices),
        st.tuples(st.just("undo"), st.integers(0, 5)),
        st.tuples(st.just("fcr_days"), st.integers(1, 40)),
        st.tuples(st.just("holidays"), st.sampled_from(("", "2025-01-01,2025-01-06",
                                                        "2024-12-25,2025-02-03"))),
        st.tuples(st.just("complaint_promise_days"), st.sampled_from(DEPARTMENTS + ("*",)),
                  st.integers(1, 6)),
        st.tuples(st.just("iceberg"), st.integers(2, 30)),
        st.tuples(st.just("counted_at"), st.sampled_from(("front_line", "head_office", "custom"))),
        st.tuples(st.just("leave_share"), st.integers(0, 100)),
        st.tuples(st.just("promise"), st.sampled_from(DEPARTMENTS + ("*",)),
                  st.integers(5, 120)),
    ),
    min_size=1, max_size=6,
)


# The datasets' channels overlap in part, so that a load brings keys (month, department,
# channel) new to the per-channel table, keeps others and takes some away; "" is not given.
CHANNELS = {"purchases": ("web", "store", ""), "complaints": ("web", "phone", ""),
            "surveys": ("", "store", "kiosk"), "responses": ("phone", "", "web")}


def _later(month: str, day: int, days: int, hour: int = 10) -> str:
    """The instant ``days`` days and some hours after ``month``-``day`` 10:00 (ISO text)."""
    at = datetime(int(month[:4]), int(month[5:]), day, 10) + timedelta(days=days, hours=hour)
    return at.isoformat(timespec="seconds")


def _rows(dataset: str, chosen, counter: list[int]) -> list[tuple]:
    rows = []
    for month, department, events in chosen:
        for day, customer, number in events:
            counter[0] += 1
            at = f"{month}-{day:02d}T10:00:00"
            channel = CHANNELS[dataset][number % 3]
            if dataset == "purchases":
                rows.append((f"p{counter[0]}", at, customer, department, f"{number / 4:.2f}",
                             channel))
            elif dataset == "complaints":
                # open, or resolved up to ~10 weeks later (into the next months)
                resolved = "" if number % 4 == 0 else _later(month, day, number % 70)
                rows.append((f"k{counter[0]}", at, department, customer,
                             ("people", "product")[number % 2], resolved, channel))
            elif dataset == "responses":
                answered = "" if number % 5 == 0 else _later(month, day, number % 9, 2)
                rows.append((f"r{counter[0]}", department, at, answered,
                             customer if number % 3 else "", channel))
            else:
                rows.append((f"s{counter[0]}", at, department, ("csat", "ces")[number % 2],
                             1 + number % 5, channel))
    return rows


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps)
# found by this test: a month loaded before the first one (the scoped count's month words)
@example([("purchases", [("2024-12", "North", [(1, "c1", 1)])]),
          ("complaints", [("2024-11", "North", [(1, "c1", 1)])])])
def test_any_sequence_of_loads_undos_and_settings_keeps_the_table_current(tmp_path_factory, plan):
    folder = tmp_path_factory.mktemp("seq")
    con = store.connect(folder / "service.duckdb")
    counter, loads = [0], []
    try:
        for i, step in enumerate(plan):
            kind = step[0]
            if kind in PLAN_HEADERS:
                path = write_csv(folder / f"{i}.csv", kind, _rows(kind, step[1], counter),
                                 channel=True, headers=PLAN_HEADERS)
                loads.append(load(con, path))
            elif kind == "undo" and loads:
                target = loads[step[1] % len(loads)]
                if undo.refusal(con, target) is None:
                    undo.undo_load(con, target, user="test")
            elif kind == "iceberg":
                store.write_setting(con, "iceberg_factor", step[1])
            elif kind in ("counted_at", "leave_share"):
                key = {"counted_at": "iceberg_counted_at", "leave_share": "dissatisfied_leave_share"}
                store.write_setting(con, key[kind], step[1])
            elif kind == "promise":
                store.write_setting(con, "promised_minutes", step[2], department=step[1])
            elif kind in ("fcr_days", "holidays"):
                store.write_setting(con, kind, step[1])
            elif kind == "complaint_promise_days":
                store.write_setting(con, kind, step[2], department=step[1])
            assert_current(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    assert main(["demo", "--db", str(db)]) == 0
    return db


@pytest.mark.parametrize("dataset", ["purchases", "complaints", "responses", "retention",
                                     "surveys"])
@pytest.mark.parametrize("scope", [Scope(), Scope(("2025-03", "2025-05"), None),
                                   Scope(("2025-06", "2025-06"), ("All", "Call centre"))],
                         ids=["everything", "three-months", "a-month-and-a-department"])
def test_indicators_computed_from_their_parts_alone_are_the_same(demo_db, dataset, scope):
    """What a refresh computes for a dataset's indicators (only the facts they read) equals
    those rows of the whole computation."""
    con = store.connect(demo_db, read_only=True)
    try:
        wanted = stored_indicators.reading(dataset)
        whole = compute.indicator_table(con, months=scope.months, departments=scope.departments)
        alone = compute.indicator_table(con, months=scope.months, departments=scope.departments,
                                        indicators=wanted)
    finally:
        con.close()
    expected = whole[whole["indicator"].isin(wanted)].reset_index(drop=True)
    assert len(expected) > 0 and set(alone["indicator"]) == set(wanted)
    pd.testing.assert_frame_equal(alone, expected)


def test_each_dataset_rewrites_the_indicators_that_read_it():
    assert stored_indicators.reading("surveys") == ("csat", "nps", "ces", "ces_mean")
    assert stored_indicators.reading("retention") == ("retention_rate",)
    # complaint rate and compensation share read purchases too
    assert {"complaint_rate", "compensation_share"} <= set(stored_indicators.reading("purchases"))
    assert {"complaint_rate", "compensation_share"} <= set(stored_indicators.reading("complaints"))


def test_the_stored_row_counts_follow_loads_and_undos(con, tmp_path):
    empty = stored_indicators.row_counts(con)  # read through Arrow, as df() gives it even empty
    assert empty.empty
    pd.testing.assert_frame_equal(empty, store.row_counts(con))
    first = load(con, write_csv(tmp_path / "a.csv", "purchases", [
        ("p1", "2025-01-05T10:00:00", "c1", "North", "10"),
        ("p2", "2025-01-06T10:00:00", "c2", "North", "10"),
        ("p3", "2025-02-06T10:00:00", "c3", "South", "10"),
    ]))
    load(con, write_csv(tmp_path / "b.csv", "surveys", [
        ("s1", "2025-03-05T10:00:00", "East", "csat", 5),
    ]))
    counts = stored_indicators.row_counts(con)
    assert counts.values.tolist() == [
        ["purchases", "2025-01", "North", 2], ["purchases", "2025-02", "South", 1],
        ["surveys", "2025-03", "East", 1],
    ]
    pd.testing.assert_frame_equal(counts, store.row_counts(con))
    assert stored_indicators.grid(con) == (["2025-01", "2025-02", "2025-03"],
                                           ["East", "North", "South"])
    # January North replaced by one row, then the first load undone (the purchases go)
    load(con, write_csv(tmp_path / "c.csv", "purchases", [
        ("p4", "2025-01-07T10:00:00", "c1", "North", "10"),
    ]))
    assert stored_indicators.row_counts(con).values.tolist()[0] == ["purchases", "2025-01", "North", 1]
    pd.testing.assert_frame_equal(stored_indicators.row_counts(con), store.row_counts(con))
    assert undo.refusal(con, first) is not None  # the later load replaced its January slice
    store.write_setting(con, "time_zone", "Pacific/Kiritimati")  # +14: 2025-02 stays
    pd.testing.assert_frame_equal(stored_indicators.row_counts(con), store.row_counts(con))
    assert_current(con)
