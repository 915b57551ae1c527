"""Money is exact (issue 16, item 3): amounts are read from their text into DECIMAL(18,4), summed
as decimals, and every report is the same bytes run after run and after a re-ingest.

Expected sums are computed here from integer cents with Python's ``decimal``; rule texts and
rows are those a user reads.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from indicators import migrations, store
from indicators.catalog import ALL_DEPARTMENTS
from indicators.compute import facts_table
from indicators.ingest import ingest_file, ingest_frame
from indicators.report import run_report_cli, run_route_cli
from indicators.schema import MAX_MONEY
from tests.indicators.test_ingest import (
    assert_problem,
    fresh_connection,
    load,
    rejected_unchanged,
    write,
)

PURCHASES_HEADER = "purchase_id,purchased_at,customer_id,department,amount,list_amount\n"
MONTHS = ("2025-01", "2025-02", "2025-03")
DEPARTMENTS = ("North", "South", "Online", "Call centre")
PURCHASES_PER_MONTH = 100_000


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    yield from fresh_connection()


def money_text(cents: int) -> str:
    """Integer cents as a file writes them: ``1234.05``."""
    return f"{cents // 100}.{cents % 100:02d}"


def report_text(cents: int) -> str:
    """The exact decimal value of ``cents`` as the report prints a number: no trailing zeros,
    whole numbers without a point."""
    text = format(Decimal(cents).scaleb(-2), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- 300,000 random cent amounts ----------------------------------------------------------


class Sums:
    """The exact sums in cents, per (month, department) and per (month, All)."""

    def __init__(self) -> None:
        self.revenue: dict[tuple[str, str], int] = defaultdict(int)
        self.list_amount: dict[tuple[str, str], int] = defaultdict(int)
        self.list_paid: dict[tuple[str, str], int] = defaultdict(int)
        self.compensation: dict[tuple[str, str], int] = defaultdict(int)

    @staticmethod
    def add(sums: dict[tuple[str, str], int], month: str, department: str, cents: int) -> None:
        sums[(month, department)] += cents
        sums[(month, ALL_DEPARTMENTS)] += cents


def write_files(directory: Path) -> tuple[list[Path], Sums]:
    """Three monthly purchase files, a complaints file and a targets file; the exact sums."""
    rng = random.Random(16)
    sums, paths = Sums(), []
    for m, month in enumerate(MONTHS):
        lines = [PURCHASES_HEADER]
        for i in range(PURCHASES_PER_MONTH):
            department = DEPARTMENTS[rng.randrange(len(DEPARTMENTS))]
            cents = rng.randrange(0, 1_000_000)  # 0.00 … 9,999.99
            listed = ""
            if rng.random() < 0.3:
                list_cents = cents + rng.randrange(0, 50_000)
                listed = money_text(list_cents)
                Sums.add(sums.list_amount, month, department, list_cents)
                Sums.add(sums.list_paid, month, department, cents)
            Sums.add(sums.revenue, month, department, cents)
            day = 1 + rng.randrange(28)
            lines.append(
                f"P{m}-{i},{month}-{day:02d}T{rng.randrange(24):02d}:15,"
                f"C{rng.randrange(60_000)},{department},{money_text(cents)},{listed}\n"
            )
        paths.append(write(directory, f"purchases-{month}.csv", "".join(lines)))
    lines = ["complaint_id,opened_at,department,customer_id,resolved_at,compensation\n"]
    for i in range(6_000):
        month, department = MONTHS[i % 3], DEPARTMENTS[rng.randrange(len(DEPARTMENTS))]
        paid = ""
        if rng.random() < 0.5:
            cents = rng.randrange(1, 100_000)
            paid = money_text(cents)
            Sums.add(sums.compensation, month, department, cents)
        day = 1 + rng.randrange(28)
        resolved = f"{month}-{day:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:07"
        lines.append(f"K{i},{month}-{day:02d},{department},C{rng.randrange(3_000)},"
                     f"{resolved if rng.random() < 0.8 else ''},{paid}\n")
    paths.append(write(directory, "complaints.csv", "".join(lines)))
    # responses: medians and 90th percentiles of minutes (quantile_cont) in the report too
    lines = ["request_id,department,received_at,responded_at\n"]
    for i in range(30_000):
        month, department = MONTHS[i % 3], DEPARTMENTS[rng.randrange(len(DEPARTMENTS))]
        day, hour = 1 + rng.randrange(27), rng.randrange(20)
        answered = f"{month}-{day + 1:02d}T{hour:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        lines.append(f"R{i},{department},{month}-{day:02d}T{hour:02d}:00:00,"
                     f"{answered if rng.random() < 0.9 else ''}\n")
    paths.append(write(directory, "responses.csv", "".join(lines)))
    paths.append(write(
        directory, "targets.csv",
        "indicator,department,baseline_month,target_month,target\n"
        "revenue,*,2025-01,2025-12,99999999.99\n"
        "average_ticket,North,2025-01,2025-09,5100.5\n",
    ))
    return paths, sums


def build(path: Path, files: list[Path]) -> Path:
    con = store.connect(path)
    try:
        for file in files:
            result = ingest_file(con, file)
            assert result.accepted, result.problems[:3]
    finally:
        con.close()
    return path


def outputs(db: Path, threads: int = 4) -> tuple[str, str, str, str]:
    """``report`` as CSV and JSON and ``route`` as CSV and JSON, with 4 threads by default (the
    aggregation of the 300,000 rows, three row groups, runs in parallel)."""
    keep = store.connect(db, read_only=True)  # the process's instance for db: its settings
    try:
        keep.execute("SET threads = ?", [threads])
        texts = []
        for run, fmt in ((run_report_cli, "csv"), (run_report_cli, "json"),
                         (run_route_cli, "csv"), (run_route_cli, "json")):
            out, err = io.StringIO(), io.StringIO()
            options = {"month": None, "department": None} if run is run_report_cli else {}
            assert run(db, fmt=fmt, out=out, err=err, **options) == 0, err.getvalue()
            texts.append(out.getvalue())
        return tuple(texts)
    finally:
        keep.close()


@pytest.fixture(scope="module")
def money_db(tmp_path_factory) -> tuple[Path, list[Path], Sums, tuple[str, str, str, str]]:
    """The database of the files, the files, their exact sums and the first run's outputs."""
    folder = tmp_path_factory.mktemp("money")
    files, sums = write_files(folder)
    db = build(folder / "money.duckdb", files)
    return db, files, sums, outputs(db)


def test_revenue_per_month_is_the_exact_decimal_sum(money_db):
    sums, report = money_db[2], money_db[3][0]
    rows = list(csv.DictReader(io.StringIO(report)))
    revenue = {(r["month"], r["department"]): r["value"] for r in rows if r["indicator"] == "revenue"}
    assert len(revenue) == len(MONTHS) * (len(DEPARTMENTS) + 1)
    assert revenue == {key: report_text(cents) for key, cents in sums.revenue.items()}
    # every digit is there: e.g. no 299060.169999989 for 299060.17
    assert all(len(text.split(".")[-1]) <= 2 for text in revenue.values())


def test_json_keeps_every_cent(money_db):
    sums, report = money_db[2], money_db[3][1]
    records = json.loads(report, parse_float=Decimal)
    revenue = {(r["month"], r["department"]): r["value"] for r in records
               if r["indicator"] == "revenue"}
    assert revenue == {key: Decimal(cents).scaleb(-2) for key, cents in sums.revenue.items()}


def test_facts_money_sums_are_the_nearest_doubles_of_the_exact_sums(money_db):
    db, _, sums, _ = money_db
    con = store.connect(db, read_only=True)
    try:
        facts = facts_table(con).set_index(["month", "department"])
    finally:
        con.close()
    for column in ("revenue", "list_amount", "list_paid", "compensation"):
        expected = getattr(sums, column)
        got = facts[column].to_dict()
        assert got == {key: float(Decimal(cents).scaleb(-2)) for key, cents in expected.items()}


def test_three_runs_give_the_same_bytes(money_db):
    db, _, _, first = money_db
    assert all(first)
    assert outputs(db) == first
    assert outputs(db) == first
    assert outputs(db, threads=1) == first  # and the same as one thread's


def test_ingesting_the_same_files_again_gives_the_same_bytes(money_db, tmp_path):
    _, files, _, first = money_db
    # a new database, the files in the opposite order: the rows are stored in another order
    again = build(tmp_path / "again.duckdb", files[::-1])
    assert outputs(again) == first
    # and the same files loaded over the same data once more
    build(again, files)
    assert outputs(again) == first


# --- reading amounts -------------------------------------------------------------------------

_NOT_AN_AMOUNT = "not an amount: write digits with a decimal point, e.g. 1234.50"
_DECIMALS = "has more than 4 decimal places; amounts are stored to 4 (0.0001)"
_EXPONENT = "written with an exponent; write the amount in digits"
_CAP = "larger than 99,999,999,999,999.9999 in magnitude, the largest amount stored"


@pytest.mark.parametrize(
    ("cells", "column", "value", "rule"),
    [
        ("12.34567,", "amount", "12.34567", _DECIMALS),
        ("12.345670,", "amount", "12.345670", _DECIMALS),
        ("10,12.00001", "list_amount", "12.00001", _DECIMALS),
        ("1e3,", "amount", "1e3", _EXPONENT),
        ("1.5E+2,", "amount", "1.5E+2", _EXPONENT),
        ("100000000000000,", "amount", "100000000000000", _CAP),  # 10^14
        ("-100000000000000.5,", "amount", "-100000000000000.5", _CAP),
        ("1e999,", "amount", "1e999", _CAP),
        ('"12,50",', "amount", "12,50", _NOT_AN_AMOUNT + " (no thousands separators"),
        ('"1,234.50",', "amount", "1,234.50", _NOT_AN_AMOUNT),
        ("$12.50,", "amount", "$12.50", _NOT_AN_AMOUNT),
        ("NaN,", "amount", "NaN", _NOT_AN_AMOUNT),
        ("-inf,", "amount", "-inf", _NOT_AN_AMOUNT),
        ("-0.01,", "amount", "-0.01", "must be ≥ 0"),
        ("10.5,10.4999", "list_amount", "10.4999", "must be ≥ amount"),
    ],
)
def test_money_rule_rejects_the_file(con, tmp_path, cells, column, value, rule):
    text = PURCHASES_HEADER + "p1,2025-03-01,c1,Sales,5.00,\n" + f"p2,2025-03-02,c1,Sales,{cells}\n"
    result = rejected_unchanged(con, write(tmp_path, "purchases.csv", text))
    problem = assert_problem(result, 3, column, rule)
    assert (problem.file, problem.value) == ("purchases.csv", value)
    assert len(result.problems) == 1


def test_compensation_is_read_as_money(con, tmp_path):
    text = "complaint_id,opened_at,department,compensation\nk1,2025-03-01,Sales,0.00005\n"
    result = rejected_unchanged(con, write(tmp_path, "complaints.csv", text))
    assert_problem(result, 2, "compensation", _DECIMALS)


def test_decimal_comma_in_a_semicolon_file(con, tmp_path):
    text = PURCHASES_HEADER.replace(",", ";") + (
        "p1;2025-03-01;c1;Sales;12,5;12,5001\np2;2025-03-01;c1;Sales;0,0001;\n"
    )
    load(con, tmp_path, "purchases.csv", text)
    assert con.execute("SELECT amount, list_amount FROM purchases ORDER BY purchase_id").fetchall() == [
        (Decimal("12.5"), Decimal("12.5001")),
        (Decimal("0.0001"), None),
    ]
    bad = PURCHASES_HEADER.replace(",", ";") + "p1;2025-04-01;c1;Sales;1.234,50;\n"
    result = rejected_unchanged(con, write(tmp_path, "bad.csv", bad))
    assert_problem(result, 2, "amount", "not an amount: write digits with a decimal point or comma")


def test_amounts_load_exactly_to_four_decimals(con, tmp_path):
    text = PURCHASES_HEADER + (
        "p1,2025-03-01,c1,Sales,12.5,12.5001\n"
        "p2,2025-03-01,c1,Sales,0.0001,0.00010000\n"
        "p3,2025-03-01,c1,Sales,99999999999999.9999,\n"
        "p4,2025-03-01,c1,Sales,.5,+7\n"
        "p5,2025-03-01,c1,Sales,12.,12.50000\n"
    )
    load(con, tmp_path, "purchases.csv", text)
    rows = con.execute(
        "SELECT CAST(amount AS VARCHAR), CAST(list_amount AS VARCHAR), typeof(amount) "
        "FROM purchases ORDER BY purchase_id"
    ).fetchall()
    assert rows == [
        ("12.5000", "12.5001", "DECIMAL(18,4)"),
        ("0.0001", "0.0001", "DECIMAL(18,4)"),
        (str(MAX_MONEY), None, "DECIMAL(18,4)"),
        ("0.5000", "7.0000", "DECIMAL(18,4)"),
        ("12.0000", "12.5000", "DECIMAL(18,4)"),
    ]


def test_parquet_decimal_and_double_amounts_load_exactly(con, tmp_path):
    path = tmp_path / "purchases.parquet"
    con.execute(
        f"""COPY (SELECT * FROM (VALUES
            ('p1', TIMESTAMP '2025-03-01 10:00', 'c1', 'Sales', 0.1::DOUBLE, 12.5::DECIMAL(38,10)),
            ('p2', TIMESTAMP '2025-03-01 11:00', 'c1', 'Sales', 7::DOUBLE, 7.0001::DECIMAL(38,10)),
            ('p3', TIMESTAMP '2025-03-01 12:00', 'c1', 'Sales', 123456789012.3456::DOUBLE,
             99999999999999.9999::DECIMAL(38,10))
        ) AS t(purchase_id, purchased_at, customer_id, department, amount, list_amount))
        TO '{path}' (FORMAT parquet)"""
    )
    result = ingest_file(con, path)
    assert result.accepted, result.problems
    assert con.execute(
        "SELECT CAST(amount AS VARCHAR), CAST(list_amount AS VARCHAR) FROM purchases "
        "ORDER BY purchase_id"
    ).fetchall() == [("0.1000", "12.5000"), ("7.0000", "7.0001"),
                     ("123456789012.3456", str(MAX_MONEY))]
    complaints = tmp_path / "complaints.parquet"
    con.execute(
        f"""COPY (SELECT 'k1' AS complaint_id, TIMESTAMP '2025-03-01 10:00' AS opened_at,
                   'Sales' AS department, 12.50::DECIMAL(10,2) AS compensation)
            TO '{complaints}' (FORMAT parquet)"""
    )
    assert ingest_file(con, complaints).accepted
    assert con.execute("SELECT CAST(compensation AS VARCHAR) FROM complaints").fetchall() == [
        ("12.5000",)
    ]


def test_parquet_double_with_float_noise_is_rejected_not_rounded(con, tmp_path):
    path = tmp_path / "noisy.parquet"
    con.execute(
        f"""COPY (SELECT 'p1' AS purchase_id, TIMESTAMP '2025-03-01 10:00' AS purchased_at,
                   'c1' AS customer_id, 'Sales' AS department,
                   (0.1::DOUBLE + 0.2::DOUBLE) AS amount, 12.345678::DECIMAL(12,6) AS list_amount)
            TO '{path}' (FORMAT parquet)"""
    )
    result = rejected_unchanged(con, path)
    assert assert_problem(result, 2, "amount", _DECIMALS).value == repr(0.1 + 0.2)
    assert assert_problem(result, 2, "list_amount", _DECIMALS).value == "12.345678"


def test_frame_amounts_load_exactly(con):
    frame = pd.DataFrame({
        "purchase_id": ["p1", "p2"], "purchased_at": ["2025-03-01", "2025-03-02"],
        "customer_id": ["c1", "c2"], "department": ["Sales", "Sales"], "amount": [0.1, 1234.5],
    })
    result = ingest_frame(con, frame, file_name="editor")
    assert result.accepted, result.problems
    assert con.execute("SELECT amount FROM purchases ORDER BY purchase_id").fetchall() == [
        (Decimal("0.1"),), (Decimal("1234.5"),)
    ]


# --- storage and the migration --------------------------------------------------------------

MONEY_TABLES = (
    ("purchases", "amount"), ("purchases", "list_amount"),
    ("removed_purchases", "amount"), ("removed_purchases", "list_amount"),
    ("complaints", "compensation"), ("removed_complaints", "compensation"),
)


def money_types(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    found = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE column_name IN ('amount', 'list_amount', 'compensation')"
    ).fetchall()
    return {(table, column): kind for table, column, kind in found}


def test_new_database_stores_money_as_decimal(tmp_path):
    con = store.connect(tmp_path / "new.duckdb")
    try:
        assert money_types(con) == dict.fromkeys(MONEY_TABLES, "DECIMAL(18,4)")
        assert migrations.stored_version(con) == migrations.SCHEMA_VERSION
    finally:
        con.close()


def old_database(path: Path, compensation: float = 4.5) -> Path:
    """A database as an earlier version left it: DOUBLE amounts and no ``schema_version``."""
    con = store.connect(path)
    try:
        for table, column in MONEY_TABLES:
            con.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DATA TYPE DOUBLE')
        con.execute("DROP TABLE schema_version")
        con.execute(
            """INSERT INTO purchases (purchase_id, purchased_at, customer_id, department, amount,
                                     list_amount, month) VALUES
               ('p1', '2025-01-05 10:00', 'c1', 'Sales', 12.5, 15.25, '2025-01-01'),
               ('p2', '2025-01-06 10:00', 'c2', 'Sales', 7.25, NULL, '2025-01-01'),
               ('p3', '2025-02-06 10:00', 'c2', 'Sales', 0.1, NULL, '2025-02-01'),
               ('p4', '2025-02-07 10:00', 'c2', 'Sales', 0.2, 12.34567, '2025-02-01')"""
        )
        con.execute(
            "INSERT INTO removed_complaints (load_id, complaint_id, opened_at, department, "
            "compensation, month) VALUES (1, 'k0', '2025-01-02', 'Sales', ?, '2025-01-01')",
            [compensation],
        )
    finally:
        con.close()
    return path


def revenue_by_month(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    facts = facts_table(con)
    return dict(zip(facts.loc[facts["department"] == ALL_DEPARTMENTS, "month"],
                    facts.loc[facts["department"] == ALL_DEPARTMENTS, "revenue"], strict=True))


def test_migration_turns_old_doubles_into_decimals(tmp_path):
    path = old_database(tmp_path / "old.duckdb")
    con = store.connect(path, read_only=True)  # read-only: the old shape is read as it is
    try:
        assert set(money_types(con).values()) == {"DOUBLE"}
        assert revenue_by_month(con)["2025-01"] == 12.5 + 7.25
    finally:
        con.close()
    con = store.connect(path)  # the first write upgrades
    try:
        assert money_types(con) == dict.fromkeys(MONEY_TABLES, "DECIMAL(18,4)")
        assert migrations.stored_version(con) == migrations.SCHEMA_VERSION
        assert con.execute(
            "SELECT purchase_id, CAST(amount AS VARCHAR), CAST(list_amount AS VARCHAR) "
            "FROM purchases ORDER BY purchase_id"
        ).fetchall() == [
            ("p1", "12.5000", "15.2500"), ("p2", "7.2500", None),
            ("p3", "0.1000", None), ("p4", "0.2000", "12.3457"),  # 5 decimals rounded to 4
        ]
        assert con.execute("SELECT compensation FROM removed_complaints").fetchall() == [
            (Decimal("4.5"),)
        ]
        revenue = revenue_by_month(con)
        assert revenue["2025-01"] == 12.5 + 7.25  # unchanged
        assert revenue["2025-02"] == 0.3  # the exact 0.1 + 0.2, no longer 0.30000000000000004
    finally:
        con.close()


def test_migration_refuses_an_amount_that_does_not_fit_and_changes_nothing(tmp_path):
    path = old_database(tmp_path / "old.duckdb", compensation=1e15)
    with pytest.raises(migrations.StepFailed) as failed:
        store.connect(path)
    message = str(failed.value)
    assert "removed_complaints.compensation holds 1000000000000000.0" in message
    assert "DECIMAL(18,4)" in message and "nothing was changed" in message
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert set(money_types(con).values()) == {"DOUBLE"}
        assert con.execute(
            "SELECT count(*) FROM schema_version WHERE step = 'exact money'"
        ).fetchone() == (0,)
        assert con.execute("SELECT amount FROM purchases ORDER BY purchase_id").fetchall() == [
            (12.5,), (7.25,), (0.1,), (0.2,)
        ]
    finally:
        con.close()
