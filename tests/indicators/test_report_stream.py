"""``report`` and ``route`` written from DuckDB (issue 17, item 5): the same values as the engine,
rounding for people by default and every digit with ``exact``, filters, and the stored table
read as it is.

The small database (hand-computed figures below):

* 2025-01: A sells 1.00, 1.00 and 0.01 (3 purchases, revenue 2.01, average ticket 2.01 / 3 =
  0.67 rounded to the cent); B sells 10.00 once.
* 2025-02: A sells 4.00 once (revenue growth (4 / 2.01 − 1) × 100 = 99.004…%, 99.0 to one
  decimal: written ``99``); B sells nothing.
* 2025-03: departments ``=1+1`` and ``-5`` (text a spreadsheet would run) sell 2.50 and 1.50.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import struct
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from indicators import completeness, demo, report, store, stored_indicators
from indicators.catalog import INDICATOR_IDS
from indicators.compute import indicator_table
from indicators.export import neutralise_cell
from tests.indicators.engine_rows import make_db, purchase

DATA = {
    "purchases": [
        purchase("p1", "2025-01-05 10:00", "c1", "A", 1.0),
        purchase("p2", "2025-01-06 10:00", "c2", "A", 1.0),
        purchase("p3", "2025-01-07 10:00", "c3", "A", 0.01),
        purchase("p4", "2025-01-07 11:00", "c4", "B", 10.0),
        purchase("p5", "2025-02-03 10:00", "c1", "A", 4.0),
        purchase("p6", "2025-03-03 10:00", "c5", "=1+1", 2.5),
        purchase("p7", "2025-03-04 10:00", "c6", "-5", 1.5),
    ],
    "targets": [
        {"indicator": "average_ticket", "department": "A", "baseline_month": "2025-01",
         "target_month": "2025-03", "target": 1.0},
        {"indicator": "purchases", "department": "*", "baseline_month": "2025-01",
         "target_month": "2025-03", "target": 7.0},
    ],
}
MONTHS = ("2025-01", "2025-02", "2025-03")
DEPARTMENTS = ("All", "-5", "=1+1", "A", "B")  # All first, then by code point: - < = < A < B


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_db(tmp_path_factory.mktemp("stream") / "s.duckdb", DATA)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    assert demo.run_cli(str(path), wait=0) == 0
    return path


def run(db: Path, fmt: str = "csv", command=report.run_report_cli, **options: object
        ) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    if command is report.run_report_cli:
        options = {"month": None, "department": None, **options}
    code = command(db, fmt=fmt, out=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


def ok(db: Path, fmt: str = "csv", command=report.run_report_cli, **options: object) -> str:
    code, out, err = run(db, fmt, command, **options)
    assert code == 0, err
    return out


def cells(text: str) -> dict[tuple[str, str, str], str]:
    return {(r["month"], r["department"], r["indicator"]): r["value"]
            for r in csv.DictReader(io.StringIO(text, newline=""))}


def todays_report(db: Path, fmt: str) -> str:
    """What ``report`` printed before it was written from DuckDB: the engine's whole long table
    with each month and department's ``complete`` flag, written by Python (``write_csv``, or
    ``json.dump`` of the records)."""
    con = store.connect(db, read_only=True)
    try:
        table = indicator_table(con)
        status = completeness.status_of(con)[["month", "department", "complete"]]
    finally:
        con.close()
    table = table.merge(status, on=["month", "department"], how="left", validate="many_to_one")
    table = table[list(report.REPORT_COLUMNS)]
    out = io.StringIO()
    if fmt == "json":
        json.dump(report._records(table), out, ensure_ascii=False)
        out.write("\n")
    else:
        report.write_csv(table, out)
    return out.getvalue()


# --- the same values as today's report ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exact_output_equals_todays_report_on_the_demo_data(demo_db, fmt):
    got, want = ok(demo_db, fmt, exact=True), todays_report(demo_db, fmt)
    if fmt == "csv":
        assert got == want  # byte for byte
    else:  # the same values (a whole number is 3 now, 3.0 before: the same JSON number)
        assert json.loads(got) == json.loads(want)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exact_output_equals_todays_report_on_the_small_database(db, fmt):
    got, want = ok(db, fmt, exact=True), todays_report(db, fmt)
    assert (got if fmt == "csv" else json.loads(got)) == (want if fmt == "csv" else json.loads(want))


def test_rounded_demo_values_are_todays_values_rounded(demo_db):
    today = json.loads(todays_report(demo_db, "json"))
    rounded = json.loads(ok(demo_db, "json"))
    assert [{k: v for k, v in r.items() if k != "value"} for r in rounded] == \
        [{k: v for k, v in r.items() if k != "value"} for r in today]
    for got, was in zip(rounded, today, strict=True):
        d = report.decimals_of(was["indicator"])
        want = None if was["value"] is None else float(
            Decimal(repr(float(was["value"]))).quantize(Decimal(1).scaleb(-d), ROUND_HALF_UP))
        assert got["value"] == want, (got, was)


def test_the_hand_computed_values(db):
    exact, rounded = cells(ok(db, exact=True)), cells(ok(db))
    assert len(rounded) == len(MONTHS) * len(DEPARTMENTS) * len(INDICATOR_IDS)
    assert rounded[("2025-01", "A", "purchases")] == "3"
    assert rounded[("2025-01", "A", "revenue")] == "2.01" == exact[("2025-01", "A", "revenue")]
    assert rounded[("2025-01", "All", "revenue")] == str(1 + 1 + 0.01 + 10)  # 12.01
    assert exact[("2025-01", "A", "average_ticket")] == repr(2.01 / 3)  # every digit
    assert rounded[("2025-01", "A", "average_ticket")] == "0.67"  # to the cent
    assert float(exact[("2025-02", "A", "revenue_growth_mom")]) == pytest.approx(
        (4 / 2.01 - 1) * 100)
    assert rounded[("2025-02", "A", "revenue_growth_mom")] == "99"  # 99.004… → 99.0
    # All: revenue 12.01, then 4: (4 / 12.01 − 1) × 100 = −66.694… → −66.7
    assert rounded[("2025-02", "All", "revenue_growth_mom")] == "-66.7"
    assert rounded[("2025-02", "B", "average_ticket")] == ""  # no purchases: missing
    assert rounded[("2025-03", "'=1+1", "revenue")] == "2.5"  # the name neutralised


def test_json_numbers_are_numbers_and_missing_is_null(db):
    records = json.loads(ok(db, "json", month="2025-01", department="A"))
    assert [tuple(r) for r in records] == [report.REPORT_COLUMNS] * len(INDICATOR_IDS)
    values = {r["indicator"]: r["value"] for r in records}
    assert values["average_ticket"] == 0.67 and values["purchases"] == 3
    assert isinstance(values["purchases"], int) and isinstance(values["revenue"], float)
    assert values["revenue"] == 2.01 and values["revenue_growth_mom"] is None
    assert {r["complete"] for r in records} == {True}
    names = {r["department"] for r in json.loads(ok(db, "json", month="2025-03"))}
    assert names == {"All", "=1+1", "-5", "A", "B"}  # JSON text is not neutralised


def test_order_is_month_then_all_first_then_code_point_then_catalog(db):
    rows = list(csv.reader(io.StringIO(ok(db), newline="")))[1:]
    pairs = list(dict.fromkeys((r[0], r[1]) for r in rows))
    assert pairs == [(m, neutralise_cell(d)) for m in MONTHS for d in DEPARTMENTS]
    assert [r[2] for r in rows[: len(INDICATOR_IDS)]] == list(INDICATOR_IDS)


def test_the_stored_table_is_what_is_read(db, tmp_path):
    copy = tmp_path / "stored.duckdb"
    copy.write_bytes(db.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        con.execute("UPDATE indicator_values SET value = 7.25 WHERE month = '2025-01' "
                    "AND department = 'B' AND indicator = 'revenue'")
    finally:
        con.close()
    assert cells(ok(copy, exact=True))[("2025-01", "B", "revenue")] == "7.25"
    assert cells(ok(copy))[("2025-01", "B", "revenue")] == "7.25"


def test_a_database_without_the_stored_table_reads_the_same(db, tmp_path):
    """An older database opened read-only has no stored table yet: computed now, same bytes."""
    copy = tmp_path / "older.duckdb"
    copy.write_bytes(db.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        con.execute(f"DROP TABLE {stored_indicators.TABLE}")
    finally:
        con.close()
    for fmt in ("csv", "json"):
        assert ok(copy, fmt) == ok(db, fmt)


# --- numbers ----------------------------------------------------------------------------------


def sql_values(expression: str, values: list[float | None]) -> list[object]:
    con = duckdb.connect()
    try:
        con.register("frame", pd.DataFrame({"v": pd.Series(values, dtype="float64")}))
        return [r[0] for r in con.execute(f"SELECT {expression} FROM frame").fetchall()]
    finally:
        con.close()


def rounded(values: list[float | None], decimals: int, *, scaled: bool = False
            ) -> list[float | None]:
    """``rounded_sql`` of the values; ``scaled``: given the scale too (its faster path)."""
    scale = repr(10.0**decimals) if scaled else None
    return sql_values(report.rounded_sql("v", str(decimals), scale=scale), values)


def person(value: float, decimals: int) -> float:
    """Rounded as a person rounds the value as written: halves away from zero."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP))


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (2.675, 2, 2.68),  # the double is 2.67499999…: rounded as written
    (8423.595, 2, 8423.6),
    (-2.675, 2, -2.68),  # halves away from zero
    (0.125, 2, 0.13),
    (1234.5, 0, 1235.0),
    (2.5, 0, 3.0),
    (-2.5, 0, -3.0),
    (4.45, 1, 4.5),
    (4.44, 1, 4.4),
    (1 / 3, 2, 0.33),
    (2 / 3, 1, 0.7),
    (1e-7, 2, 0.0),
    (123456789012.345, 2, 123456789012.35),
    (2**53 / 100 + 0.5, 2, 2**53 / 100 + 0.5),  # past 2⁵³ ÷ 100: no finer digit, as it is
])
@pytest.mark.parametrize("scaled", [False, True])
def test_rounding_hand_cases(value, decimals, expected, scaled):
    assert rounded([value], decimals, scaled=scaled) == [expected]


@pytest.mark.parametrize("scaled", [False, True])
def test_missing_infinite_and_huge_values_are_left_alone(scaled):
    got = rounded([float("nan"), float("inf"), -float("inf"), 1e300, None], 2, scaled=scaled)
    assert got[1:] == [float("inf"), -float("inf"), 1e300, None]
    assert got[0] is None or math.isnan(got[0])


@pytest.mark.parametrize("scaled", [False, True])
def test_rounding_agrees_with_the_pages_rule_on_many_values(scaled):
    """As a person rounds (and :func:`indicators.units.fixed`) on 26,000 values, many of them
    on a half, some near the size past which nothing is rounded — with the scale given or not."""
    rng = random.Random(17)
    values = [rng.randint(-10**7, 10**7) / 1000 for _ in range(10_000)]
    values += [rng.randint(-10**6, 10**6) / 200 for _ in range(5_000)]
    values += [rng.uniform(-1e6, 1e6) for _ in range(5_000)]
    values += [rng.randint(-10**15, 10**15) / 20 for _ in range(5_000)]  # halves of cents, big
    values += [2**53 / 10**d * (1 - rng.random() * 1e-3) for d in (0, 1, 2) for _ in range(300)]
    for decimals in (0, 1, 2):
        assert rounded(values, decimals, scaled=scaled) == [person(v, decimals) for v in values]


def random_doubles(n: int) -> list[float]:
    rng = random.Random(5)
    found = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(n)]
    found += [rng.uniform(-1e6, 1e6) for _ in range(n)]
    found += [float(rng.randint(-2**60, 2**60)) for _ in range(n)]
    found += [0.0, -0.0, 1e16, 2.0**53, 2.0**53 - 1, -(2.0**53), 1e-5, 1e-4, 1.5e-7, 5e-324]
    return found


def test_exact_text_is_todays_text_for_any_double():
    values = random_doubles(5_000)
    assert sql_values(report.number_text_sql("v"), values) == [
        report.format_number(v) or None for v in values]


@pytest.mark.parametrize("scale", [None, "100.0"])
def test_minus_zero_is_written_zero(scale):
    text = report.number_text_sql(f"({report.rounded_sql('v', '2', scale=scale)})")
    assert sql_values(text, [-0.001, -0.0, 0.004]) == ["0", "0", "0"]


@pytest.mark.parametrize(("indicator", "decimals"), [
    ("purchases", 0), ("estimated_dissatisfied", 0),  # count
    ("revenue", 2), ("average_ticket", 2),  # money: to the cent
    ("csat", 1), ("complaint_rate", 1), ("nps", 1),  # %, per 100, points
    ("response_time_median", 1), ("resolution_time_median", 1),  # minutes, hours
])
def test_decimals_by_unit(indicator, decimals):
    assert report.decimals_of(indicator) == decimals


def test_every_indicator_has_decimals():
    assert {report.decimals_of(i) for i in INDICATOR_IDS} == {0, 1, 2}


# --- filters -------------------------------------------------------------------------------------


def pairs(text: str) -> set[tuple[str, str]]:
    return {(r["month"], r["department"]) for r in csv.DictReader(io.StringIO(text, newline=""))}


def test_from_to_and_indicator(db):
    text = ok(db, first="2025-02", last="2025-03", indicator="revenue")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert {r["indicator"] for r in rows} == {"revenue"}
    assert {r["month"] for r in rows} == {"2025-02", "2025-03"}
    assert len(rows) == 2 * len(DEPARTMENTS)
    assert cells(text)[("2025-02", "A", "revenue")] == "4"


def test_open_ended_ranges(db):
    assert {m for m, _ in pairs(ok(db, first="2025-03"))} == {"2025-03"}
    assert {m for m, _ in pairs(ok(db, last="2025-01"))} == {"2025-01"}
    # bounds need not be months of the data; the range must hold one
    assert {m for m, _ in pairs(ok(db, first="2024-06", last="2025-01"))} == {"2025-01"}


def test_department_filter_takes_the_name_as_stored(db):
    assert pairs(ok(db, department="=1+1", month="2025-03")) == {("2025-03", "'=1+1")}
    assert pairs(ok(db, department="All", month="2025-01")) == {("2025-01", "All")}


@pytest.mark.parametrize(("options", "message"), [
    ({"indicator": "revenu"}, "unknown indicator 'revenu'"),
    ({"month": "2025-01", "first": "2025-01"}, "--month or --from/--to"),
    ({"first": "2025-03", "last": "2025-01"}, "--from 2025-03 is after --to 2025-01"),
    ({"first": "2026-01"}, "unknown month range '2026-01 to …'"),
    ({"last": "2024-12"}, "unknown month range '… to 2024-12'"),
    ({"first": "2025-13"}, "--from: a month is written YYYY-MM"),
    ({"month": "2024-12"}, "unknown month '2024-12'; the data has: 2025-01, 2025-02, 2025-03"),
    ({"department": "'=1+1"}, "unknown department"),
])
def test_unknown_filters_exit_2_and_print_nothing(db, options, message):
    for fmt in ("csv", "json"):
        code, out, err = run(db, fmt, **options)
        assert (code, out) == (2, "")
        assert message in err


# --- route ---------------------------------------------------------------------------------------


def route_rows(db: Path, **options: object) -> list[dict[str, str]]:
    text = ok(db, "csv", report.run_route_cli, **options)
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_route_is_rounded_unless_exact(db):
    # average ticket of A: 2.01 / 3 in 2025-01 (the baseline), 4 in 2025-02, none in 2025-03
    rows = [r for r in route_rows(db) if r["indicator"] == "average_ticket"]
    assert [r["actual"] for r in rows] == ["0.67", "4", ""]
    exact = [r for r in route_rows(db, exact=True) if r["indicator"] == "average_ticket"]
    baseline = 2.01 / 3
    assert exact[0]["actual"] == repr(baseline)
    # planned halfway from the baseline to 1: 0.66999… + (1 − 0.66999…) × 1 ÷ 2, written 0.835
    planned = baseline + (1 - baseline) * 1 / 2
    assert exact[1]["planned"] == repr(planned) == "0.835"
    assert rows[1]["planned"] == "0.84"  # the half away from zero, to the cent
    # travelled in 2025-02: (4 − 0.67) ÷ (1 − 0.67) × 100 = 1009.09…% → one decimal
    travelled = (4 - baseline) / (1 - baseline) * 100
    assert rows[1]["travelled"] == repr(person(travelled, 1)) == "1009.1"


def test_route_filters_pick_targets_and_months(db):
    rows = route_rows(db, indicator="purchases", first="2025-02")
    assert {(r["indicator"], r["department"]) for r in rows} == {("purchases", "All")}
    assert [r["month"] for r in rows] == ["2025-02", "2025-03"]
    doc = json.loads(ok(db, "json", report.run_route_cli, department="A"))
    assert {t["indicator"] for t in doc["targets"]} == {"average_ticket"}
    assert [r["month"] for r in doc["routes"]] == list(MONTHS)
    code, out, err = run(db, "csv", report.run_route_cli, department="B")
    assert (code, out) == (2, "") and "unknown department 'B'; the data has: A, All" in err


def test_a_department_only_the_stored_table_has_is_written_complete(db, tmp_path):
    """A stored table not kept current (rows written by hand) may name a department that no
    dataset holds: its rows are printed as stored, its cell made then, its months complete."""
    copy = tmp_path / "stale.duckdb"
    copy.write_bytes(db.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        con.execute("INSERT INTO indicator_values VALUES ('2025-02', $d, 'purchases', 2.0)",
                    {"d": 'Ghost, "=x"\n'})
    finally:
        con.close()
    rows = [r for r in csv.DictReader(io.StringIO(ok(copy), newline=""))
            if r["department"].startswith("Ghost")]
    assert rows == [{"month": "2025-02", "department": 'Ghost, "\'=x"\n', "indicator": "purchases",
                     "value": "2", "complete": "true"}]
    records = [r for r in json.loads(ok(copy, "json")) if r["department"].startswith("Ghost")]
    assert records == [{"month": "2025-02", "department": 'Ghost, "=x"\n',
                        "indicator": "purchases", "value": 2, "complete": True}]
