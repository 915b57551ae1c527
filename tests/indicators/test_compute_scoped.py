"""The scoped indicator table: ``indicator_table(con, months=..., departments=...)``.

A scope must give exactly the rows of the full table for its months and departments — the same
counts, and sums equal up to the order DuckDB adds floats in (parallel sums may differ in the
last bits from run to run, scoped or not), computed from fewer rows.  Checked on the demo dataset (24 months, six
departments, every dataset) for many scopes, and on purchases spread over 16 years, where
new and returning customers depend on purchases far before the scope.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from indicators import compute, demo, facts, ingest, store
from indicators.catalog import ALL_DEPARTMENTS


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    folder = tmp_path_factory.mktemp("scoped")
    con = store.connect(folder / "demo.duckdb")
    for path in demo.write_demo_files(folder / "files"):
        assert ingest.ingest_file(con, path).accepted
    yield con
    con.close()


@pytest.fixture(scope="module")
def full(demo_db: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return compute.indicator_table(demo_db)


def _rows(full: pd.DataFrame, months: tuple[str, str] | None, departments: list[str] | None):
    keep = pd.Series(True, index=full.index)
    if months is not None:
        keep &= (full["month"] >= months[0]) & (full["month"] <= months[1])
    if departments is not None:
        keep &= full["department"].isin(departments)
    return full[keep].reset_index(drop=True)


SCOPES = [
    pytest.param(("2025-01", "2025-12"), [ALL_DEPARTMENTS], id="overview-all-last-12"),
    pytest.param(("2025-01", "2025-12"), [demo.SLIPPING], id="overview-department"),
    pytest.param(("2024-01", "2024-03"), [demo.IMPROVING], id="first-months-no-history"),
    pytest.param(("2025-06", "2025-06"), [ALL_DEPARTMENTS, demo.PROMISE_SLIPPING], id="one-month"),
    pytest.param(("2024-11", "2025-02"), None, id="months-only"),
    pytest.param(None, [demo.SLIPPING, ALL_DEPARTMENTS], id="departments-only"),
    pytest.param(("2023-01", "2024-02"), [ALL_DEPARTMENTS], id="starts-before-the-data"),
    pytest.param(("2025-12", "2027-01"), [demo.IMPROVING], id="ends-after-the-data"),
]


@pytest.mark.parametrize(("months", "departments"), SCOPES)
def test_a_scope_gives_exactly_the_rows_of_the_full_table(demo_db, full, months, departments):
    scoped = compute.indicator_table(demo_db, months=months, departments=departments)
    expected = _rows(full, months, departments)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(scoped, expected)


@pytest.mark.parametrize(
    ("months", "departments"),
    [
        (("2030-01", "2030-12"), [ALL_DEPARTMENTS]),
        (("2025-01", "2025-03"), ["No such department"]),
        (("2025-03", "2025-01"), None),
    ],
    ids=["months-without-data", "unknown-department", "empty-range"],
)
def test_a_scope_outside_the_data_is_empty_with_the_four_columns(demo_db, months, departments):
    scoped = compute.indicator_table(demo_db, months=months, departments=departments)
    assert scoped.empty
    assert list(scoped.columns) == list(compute.LONG_COLUMNS)


def test_scoped_facts_equal_the_full_facts(demo_db):
    whole = facts.facts_table(demo_db)
    scoped = facts.facts_table(demo_db, months=("2024-08", "2025-03"),
                               departments=[demo.SLIPPING, ALL_DEPARTMENTS])
    expected = whole[
        whole["month"].between("2024-08", "2025-03")
        & whole["department"].isin([demo.SLIPPING, ALL_DEPARTMENTS])
    ].reset_index(drop=True)
    pd.testing.assert_frame_equal(scoped, expected)


def test_a_badly_written_month_is_refused(demo_db):
    with pytest.raises(ValueError, match="YYYY-MM"):
        compute.indicator_table(demo_db, months=("2025-1", "2025-03"))


def _long_history(path: Path, seed: int = 7) -> list[tuple[str, str, str]]:
    """Purchases over 2010-01 … 2025-12 (192 months), customers returning after long gaps."""
    rng = random.Random(seed)
    rows = []
    for i in range(1500):
        year, month = rng.randint(2010, 2025), rng.randint(1, 12)
        # few customers, so each comes back, sometimes within 12 months, sometimes after years
        customer, department = f"c{rng.randint(1, 60)}", rng.choice(["North", "South", "East"])
        rows.append((f"p{i}", f"{year}-{month:02d}-15T10:00:00", customer, department))
    lines = ["purchase_id,purchased_at,customer_id,department,amount"]
    lines += [f"{p},{t},{c},{d},10" for p, t, c, d in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rows


def _index(text: str) -> int:
    return int(text[:4]) * 12 + int(text[5:7]) - 1


def test_new_and_returning_customers_over_sixteen_years(tmp_path: Path):
    rows = _long_history(tmp_path / "purchases.csv")
    con = duckdb.connect()
    store.init_db(con)
    assert ingest.ingest_file(con, tmp_path / "purchases.csv").accepted
    whole = facts.facts_table(con)
    assert len(whole["month"].unique()) == 192

    # plain Python: the months each customer bought in, per department and anywhere
    active: dict[tuple[str, str], set[int]] = {}
    for _, stamp, customer, department in rows:
        for key in ((customer, department), (customer, ALL_DEPARTMENTS)):
            active.setdefault(key, set()).add(_index(stamp))
    expected: dict[tuple[str, str], tuple[int, int, int]] = {}
    for (_, department), months in active.items():
        for m in months:
            label = f"{m // 12:04d}-{m % 12 + 1:02d}"
            a, n, r = expected.get((label, department), (0, 0, 0))
            expected[(label, department)] = (
                a + 1,
                n + (min(months) == m),
                r + any(m - 12 <= e < m for e in months),
            )
    got = {
        (row.month, row.department): (row.active_customers, row.new_customers,
                                      row.returning_customers)
        for row in whole.itertuples()
        if row.active_customers
    }
    assert got == expected

    scoped = facts.facts_table(con, months=("2019-05", "2020-04"), departments=["South"])
    pd.testing.assert_frame_equal(
        scoped,
        whole[whole["month"].between("2019-05", "2020-04") & (whole["department"] == "South")]
        .reset_index(drop=True),
    )


def test_shift_month_crosses_years():
    assert facts.shift_month("2025-01", -12) == "2024-01"
    assert facts.shift_month("2025-01", -1) == "2024-12"
    assert facts.shift_month("2024-12", 1) == "2025-01"
    assert dt.date(2024, 1, 1) == facts.parse_month(facts.shift_month("2025-01", -12))


@pytest.mark.parametrize(("months", "departments"), [(None, None), *SCOPES[:4]])
def test_the_word_and_bit_string_encodings_count_the_same_customers(
    demo_db, monkeypatch, months, departments
):
    """A customer's months are one 64-bit integer when they fit, else a bit string (longer
    histories, see the sixteen years above); on the same rows both give the same counts."""
    word = facts.facts_table(demo_db, months=months, departments=departments)
    monkeypatch.setattr(facts, "WORD_BITS", 0)
    strings = facts.facts_table(demo_db, months=months, departments=departments)
    assert len(word) > 0 and word["returning_customers"].sum() > 0
    columns = ["month", "department", "active_customers", "new_customers",
               "returning_customers"]
    pd.testing.assert_frame_equal(word[columns], strings[columns])


def _scope(full_lo: str, hi: str) -> facts.FactsScope:
    return facts.FactsScope(lo=dt.date(2000, 1, 1), hi=facts.parse_month(hi),
                            full_lo=facts.parse_month(full_lo), departments=(), with_all=True)


def test_the_months_are_one_integer_exactly_when_they_fit_63_bits():
    # bit 0 is 12 months before the first counted month: 2019-01 for 2020-01
    assert _scope("2020-01", "2020-01").base == dt.date(2019, 1, 1)
    # 2019-01 + 62 months = 2024-03 (5 years and 2 months): bits 0 … 62, the sign bit left alone
    assert facts._last_bit(_scope("2020-01", "2024-03")) == 5 * 12 + 2
    assert "BIGINT" in facts._bits(_scope("2020-01", "2024-03"))[0]
    assert "bitstring_agg" in facts._bits(_scope("2020-01", "2024-04"))[0]
    # the earliest month has no 12 months before it: bit 0 is 0001-01 itself
    assert _scope("0001-06", "0001-06").base == dt.date(1, 1, 1)


def test_full_from_leaves_the_earlier_months_their_purchases_only(demo_db):
    whole = facts.facts_table(demo_db)
    scoped = facts.facts_table(demo_db, months=("2024-06", "2025-05"),
                               departments=[ALL_DEPARTMENTS, demo.SLIPPING],
                               full_from="2025-01")
    expected = whole[whole["month"].between("2024-06", "2025-05")
                     & whole["department"].isin([ALL_DEPARTMENTS, demo.SLIPPING])]
    expected = expected.reset_index(drop=True)
    kept = ["purchases", "revenue", "list_purchases", "list_amount", "list_paid"]
    emptied = [c for c in (*facts.COUNT_COLUMNS, *facts.SUM_COLUMNS) if c not in kept]
    before = expected["month"] < "2025-01"
    # the demo has customers, complaints, requests and surveys in those months
    for column in ("active_customers", "complaints", "requests", "csat_answers", "compensation"):
        assert expected.loc[before, column].sum() > 0
    assert expected.loc[before, "purchases"].sum() > 0
    expected.loc[before, emptied] = 0
    expected.loc[before, list(facts.QUANTILE_COLUMNS)] = float("nan")
    pd.testing.assert_frame_equal(scoped, expected)
