"""`report`'s memory bound and strict JSON.

* The rows come from DuckDB as Arrow record batches of at most ``BATCH_ROWS`` rows and are
  written batch by batch: no more than a batch of rows and its text exist at a time, and the
  bytes are exactly those of the whole table written at once, whatever the batch size.
* A value that is not finite (three amounts of 1.5e308 sum to inf) is missing: ``null`` in JSON
  (never ``Infinity``, which is not JSON), empty in CSV — in ``report`` and in ``route``.
"""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from indicators import completeness, report, store, stored_indicators
from indicators.catalog import INDICATOR_IDS
from indicators.compute import LONG_COLUMNS, facts_table, indicators_from_facts
from tests.indicators.engine_rows import complaint, insert, make_db, purchase

# Two months; departments whose order needs care: All first, then by code point ("-5" < "A" <
# "b" < "Ä"); "-5" and "=1+1" are neutralised as text in CSV.
DATA = {
    "purchases": [
        purchase("p1", "2025-01-05 10:00", "c1", "A", 0.1),
        purchase("p2", "2025-01-06 10:00", "c2", "b", 0.2),
        purchase("p3", "2025-02-06 10:00", "c1", "Ä", 3.0, list_amount=4.0),
        purchase("p4", "2025-02-07 10:00", "c3", "-5", 2.5),
        purchase("p5", "2025-02-08 10:00", "c3", "=1+1", 1.0),
    ],
    "complaints": [complaint("k1", "2025-02-03 10:00", "A", compensation=1.5)],
}
WIDE_ROWS = 2 * (5 + 1)  # months × (departments + All)
INDICATORS = 24 + 1 + 11  # the seeds', revenue at risk, the service manager's (issue 20)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("bounds") / "bounds.duckdb", DATA)


def _whole_table_output(db, fmt: str) -> str:
    """The whole long table (with each month and department's ``complete`` flag) computed by
    the engine and written at once by Python: what ``report --exact`` prints."""
    con = store.connect(db, read_only=True)
    try:
        settings = store.read_settings(con)
        table = indicators_from_facts(facts_table(con, settings=settings), settings=settings)
        status = completeness.status_of(con)[["month", "department", "complete"]]
    finally:
        con.close()
    table = table.merge(status, on=["month", "department"], how="left", validate="many_to_one")
    columns = list(report.REPORT_COLUMNS)
    out = io.StringIO()
    if fmt == "json":
        json.dump(report._records(table[columns]), out, ensure_ascii=False)
        out.write("\n")
    else:
        report.write_csv(table[columns], out)
    return out.getvalue()


def _report(db, fmt: str, **filters) -> str:
    out, err = io.StringIO(), io.StringIO()
    code = report.run_report_cli(db, month=filters.pop("month", None),
                                 department=filters.pop("department", None), fmt=fmt, out=out,
                                 err=err, **filters)
    assert code == 0, err.getvalue()
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("batch", [1, 5, 7, 2_000])
def test_batches_write_the_same_bytes_as_the_whole_table(db, monkeypatch, fmt, batch):
    expected = _whole_table_output(db, fmt)
    rounded = _report(db, fmt)
    monkeypatch.setattr(report, "BATCH_ROWS", batch)
    got = _report(db, fmt, exact=True)
    if fmt == "csv":
        assert got == expected
        assert len(expected.splitlines()) == 1 + WIDE_ROWS * INDICATORS
    else:
        assert json.loads(got) == json.loads(expected)
        assert len(got.splitlines()) == 1
    assert _report(db, fmt) == rounded


def test_no_more_than_a_batch_of_rows_is_fetched_at_once(db, monkeypatch):
    """Five rows per batch: every batch DuckDB hands over holds at most 5 rows, and together
    they are the whole table (12 × 36 = 432 rows)."""
    monkeypatch.setattr(report, "BATCH_ROWS", 5)
    sizes: list[int] = []
    batches = report._batches

    def counting(con, sql, parameters):
        for batch in batches(con, sql, parameters):
            sizes.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(report, "_batches", counting)
    _report(db, "csv")
    assert max(sizes) == 5 and sum(sizes) == WIDE_ROWS * INDICATORS
    sizes.clear()
    _report(db, "json")
    assert max(sizes) == 5 and sum(sizes) == WIDE_ROWS * INDICATORS


def test_filters_pick_the_same_rows(db):
    got = list(csv.reader(io.StringIO(_report(db, "csv", month="2025-02", department="-5"),
                                      newline="")))
    assert got[0] == [*LONG_COLUMNS, "complete"]
    assert [r[2] for r in got[1:]] == list(INDICATOR_IDS)
    assert {tuple(r[:2]) for r in got[1:]} == {("2025-02", "'-5")}
    row = {r[2]: r[3] for r in got[1:]}
    assert row["purchases"] == "1" and row["revenue"] == "2.5" and row["average_ticket"] == "2.5"


@pytest.fixture
def overflowing(tmp_path):
    big = 1.5e308  # each is a valid float; three of them sum to inf
    # Amounts are DECIMAL now (their sums can't overflow); a database of the older shape, DOUBLE
    # amounts, is read as it is until its first write upgrades it.
    db = make_db(tmp_path / "inf.duckdb", {"targets": [
        {"indicator": "revenue", "department": "A", "baseline_month": "2025-01",
         "target_month": "2025-03", "target": 1.0, "baseline": 2.0}]})
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE purchases ALTER COLUMN amount SET DATA TYPE DOUBLE")
    insert(con, "purchases", [
        purchase(f"p{i}", "2025-01-05 10:00", f"c{i}", "A", big) for i in range(3)
    ])
    stored_indicators.rebuild(con)  # rows written by hand: the stored table follows them
    con.close()
    return db


def _no_constants(name: str) -> None:
    raise AssertionError(f"invalid JSON constant {name}")


def test_a_sum_that_overflows_is_null_in_json_and_empty_in_csv(overflowing):
    for exact in (False, True):
        records = json.loads(_report(overflowing, "json", exact=exact),
                             parse_constant=_no_constants)
        values = {(r["department"], r["indicator"]): r["value"] for r in records}
        assert values[("A", "purchases")] == 3
        assert values[("A", "revenue")] is None and values[("All", "revenue")] is None
        assert values[("A", "average_ticket")] is None  # inf / 3
        rows = list(csv.reader(io.StringIO(_report(overflowing, "csv", exact=exact))))
        cells = {(r[1], r[2]): r[3] for r in rows[1:]}
        assert cells[("A", "purchases")] == "3"
        assert cells[("A", "revenue")] == "" and cells[("A", "average_ticket")] == ""


def test_route_json_is_strict_too(overflowing):
    out, err = io.StringIO(), io.StringIO()
    assert report.run_route_cli(overflowing, fmt="json", out=out, err=err) == 0, err.getvalue()
    doc = json.loads(out.getvalue(), parse_constant=_no_constants)
    # 2025-01: revenue inf, missing; 2025-02 and 2025-03: no data
    assert [(r["month"], r["actual"]) for r in doc["routes"]] == [
        ("2025-01", None), ("2025-02", None), ("2025-03", None)]
    assert doc["targets"][0]["baseline"] == 2
