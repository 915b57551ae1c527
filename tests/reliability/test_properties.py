"""Property-based tests: random valid data sets, and random damage to valid files.

1. Random valid files of purchases, complaints, responses and surveys load, and the indicator
   table agrees with the rows: counts equal rows, revenue equals the sum of amounts, every
   share lies in 0–100, additive indicators of All equal the sum over departments, and loading
   the same files again changes nothing.
2. Random mutations of valid files (a character deleted, inserted or duplicated, a delimiter
   swapped, the file cut short, a quote injected, a digit turned into a letter, a NUL, random
   bytes) never raise: the result is a clean load or a rejection with problems that name their
   rule, and a rejection leaves every table as it was.

Hypothesis runs with the ``ci`` profile by default: derandomised (the same examples on every
run), a bounded number of examples and no deadline, so the suite stays fast and stable.
``HYPOTHESIS_PROFILE=thorough`` explores more, randomly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators import store
from indicators.catalog import ALL_DEPARTMENTS, SERVICE_COMPONENTS
from indicators.compute import indicator_table
from indicators.ingest import IngestResult, ingest_file
from tests.indicators.test_ingest import snapshot
from tests.reliability.test_bad_input_corpus import BASE, seeded_connection

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,  # nothing written into the checkout; derandomised runs need no replay
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# --- random valid data sets --------------------------------------------------------------------

DEPARTMENTS = ("Sales", "Call centre", "Продажи", "Café; bar", "007", 'Quote "Q"')
"""Names that need quoting, a delimiter, non-ASCII text and digits: all must round-trip."""
MONTHS = ("2024-11", "2024-12", "2025-01", "2025-02", "2025-03")
SHARE_INDICATORS = (
    "csat",
    "promise_kept_rate",
    "unresolved_complaints_rate",
    "repeat_complaint_rate",
    "returning_customers_rate",
    "discount_rate",
)
ADDITIVE = ("purchases", "revenue", "complaints", "estimated_dissatisfied")


def _stamp(month: str, day: int, minute: int) -> str:
    return f"{month}-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:00"


@st.composite
def _moment(draw: st.DrawFn) -> tuple[str, str, dt.datetime]:
    """(month, ISO text, datetime) of a random minute in one of ``MONTHS``."""
    month = draw(st.sampled_from(MONTHS))
    day = draw(st.integers(1, 28))
    minute = draw(st.integers(0, 24 * 60 - 1))
    text = _stamp(month, day, minute)
    return month, text, dt.datetime.fromisoformat(text)


def _csv(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue()


@st.composite
def purchases(draw: st.DrawFn) -> tuple[str, list[dict]]:
    n = draw(st.integers(1, 25))
    rows = []
    for i in range(n):
        month, text, _ = draw(_moment())
        cents = draw(st.integers(0, 500_000))
        discount = draw(st.one_of(st.none(), st.integers(0, 100_000)))
        rows.append(
            {
                "purchase_id": f"{i:04d}",
                "purchased_at": text,
                "customer_id": f"c{draw(st.integers(1, 8))}",
                "department": draw(st.sampled_from(DEPARTMENTS)),
                "amount": cents / 100,
                "list_amount": None if discount is None else (cents + discount) / 100,
                "month": month,
            }
        )
    header = ["purchase_id", "purchased_at", "customer_id", "department", "amount", "list_amount"]
    return _csv(header, [[r[c] for c in header] for r in rows]), rows


@st.composite
def complaints(draw: st.DrawFn) -> tuple[str, list[dict]]:
    n = draw(st.integers(1, 15))
    rows = []
    for i in range(n):
        month, text, opened = draw(_moment())
        resolved = draw(st.one_of(st.none(), st.integers(0, 10_000)))
        rows.append(
            {
                "complaint_id": f"k{i}",
                "opened_at": text,
                "department": draw(st.sampled_from(DEPARTMENTS)),
                "customer_id": draw(st.sampled_from((None, "c1", "c2", "c3"))),
                "component": draw(st.sampled_from((None, *SERVICE_COMPONENTS))),
                "resolved_at": None
                if resolved is None
                else (opened + dt.timedelta(minutes=resolved)).isoformat(),
                "compensation": draw(st.sampled_from((None, 0, 2.5, 10))),
                "month": month,
            }
        )
    header = [
        "complaint_id", "opened_at", "department", "customer_id", "component", "resolved_at",
        "compensation",
    ]
    return _csv(header, [[r[c] for c in header] for r in rows]), rows


@st.composite
def responses(draw: st.DrawFn) -> tuple[str, list[dict]]:
    n = draw(st.integers(1, 15))
    rows = []
    for i in range(n):
        month, text, received = draw(_moment())
        waited = draw(st.one_of(st.none(), st.integers(0, 600)))
        rows.append(
            [
                f"r{i}",
                draw(st.sampled_from(DEPARTMENTS)),
                text,
                None if waited is None else (received + dt.timedelta(minutes=waited)).isoformat(),
                draw(st.sampled_from((None, 15, 60, 240))),
            ]
        )
    header = ["request_id", "department", "received_at", "responded_at", "promised_minutes"]
    return _csv(header, rows), rows


@st.composite
def surveys(draw: st.DrawFn) -> tuple[str, list[dict]]:
    n = draw(st.integers(1, 15))
    rows = []
    for i in range(n):
        _, text, _ = draw(_moment())
        kind = draw(st.sampled_from(("csat", "nps")))
        score = draw(st.integers(1, 5) if kind == "csat" else st.integers(0, 10))
        rows.append([f"s{i}", text, draw(st.sampled_from(DEPARTMENTS)), kind, score])
    return _csv(["survey_id", "answered_at", "department", "kind", "score"], rows), rows


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="properties-") as tmp:
        yield Path(tmp)


def _value(table: pd.DataFrame, month: str, department: str, indicator: str) -> float:
    hit = table[
        (table["month"] == month)
        & (table["department"] == department)
        & (table["indicator"] == indicator)
    ]
    assert len(hit) == 1, (month, department, indicator)
    return float(hit["value"].iloc[0])


@PROFILE
@given(
    sales=purchases(),
    complaint_file=complaints(),
    response_file=responses(),
    survey_file=surveys(),
)
def test_random_valid_data_sets_report_what_the_rows_say(
    workdir, sales, complaint_file, response_file, survey_file
):
    files = {
        "purchases": sales[0],
        "complaints": complaint_file[0],
        "responses": response_file[0],
        "surveys": survey_file[0],
    }
    con = duckdb.connect()
    try:
        store.init_db(con)
        paths = []
        for name, text in files.items():
            path = workdir / f"{name}.csv"
            path.write_text(text, encoding="utf-8")
            result = ingest_file(con, path)
            assert result.accepted, result.problems
            paths.append(path)
        table = indicator_table(con)
        months = sorted(set(table["month"]))
        departments = sorted(set(table["department"]) - {ALL_DEPARTMENTS})

        # Counts equal rows and revenue equals the sum of amounts, per slice and for All.
        rows = pd.DataFrame(sales[1])
        for month in months:
            in_month = rows[rows["month"] == month]
            for department in departments:
                mine = in_month[in_month["department"] == department]
                assert _value(table, month, department, "purchases") == len(mine)
                # Up to summation order (DuckDB adds in parallel): relative 1e-12.
                assert math.isclose(
                    _value(table, month, department, "revenue"), mine["amount"].sum(),
                    rel_tol=1e-12, abs_tol=1e-9,
                )
            assert _value(table, month, ALL_DEPARTMENTS, "purchases") == len(in_month)
            opened = [r for r in complaint_file[1] if r["month"] == month]
            assert _value(table, month, ALL_DEPARTMENTS, "complaints") == len(opened)

        # Every share lies in 0–100 (missing is allowed: a ratio over nothing).
        shares = table[table["indicator"].isin(SHARE_INDICATORS)]["value"].dropna()
        assert ((shares >= 0) & (shares <= 100)).all(), shares[(shares < 0) | (shares > 100)]

        # Additive indicators of All are the sum over departments.
        wide = table[table["indicator"].isin(ADDITIVE)]
        parts = wide[wide["department"] != ALL_DEPARTMENTS].groupby(["month", "indicator"])
        total = wide[wide["department"] == ALL_DEPARTMENTS].set_index(["month", "indicator"])
        summed = parts["value"].sum()
        for key, value in total["value"].items():
            assert math.isclose(value, summed[key], rel_tol=1e-12, abs_tol=1e-9), key

        # Loading the same files again changes no stored row.
        before = snapshot(con)
        for path in paths:
            assert ingest_file(con, path).accepted
        assert snapshot(con) == before
    finally:
        con.close()


# --- random damage to valid files ------------------------------------------------------------

VALID_FILES: dict[str, bytes] = {name: text.encode() for name, text in BASE.items()} | {
    "purchases_semicolon": (
        "purchase_id;purchased_at;customer_id;department;amount;list_amount\n"
        "007;2025-04-01T10:00;c1;Продажи;10,5;12,25\n"
        '008;2025-04-02;c2;"Sales; online";3;\n'
    ).encode(),
    "complaints_multiline": (
        b"complaint_id,opened_at,department,category\n"
        b'k1,2025-04-01,Sales,"two\nlines"\nk2,2025-04-02T08:00:00Z,Sales,\n'
    ),
}


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """A valid file with one random mutation: (which file, the bytes, what was done)."""
    name = draw(st.sampled_from(sorted(VALID_FILES)))
    data = VALID_FILES[name]
    at = draw(st.integers(0, len(data) - 1))
    kind = draw(
        st.sampled_from(
            (
                "delete", "insert", "duplicate", "swap delimiter", "truncate", "quote",
                "digit to letter", "nul", "random bytes",
            )
        )
    )
    if kind == "delete":
        data = data[:at] + data[at + 1 :]
    elif kind == "insert":
        data = data[:at] + draw(st.sampled_from((b",", b";", b"\n", b"\r", b" ", b"x", b"-"))) + data[at:]
    elif kind == "duplicate":
        data = data[: at + 1] + data[at:]
    elif kind == "swap delimiter":
        positions = [i for i, b in enumerate(data) if b in b",;"]
        i = draw(st.sampled_from(positions))
        data = data[:i] + (b";" if data[i : i + 1] == b"," else b",") + data[i + 1 :]
    elif kind == "truncate":
        data = data[:at]
    elif kind == "quote":
        data = data[:at] + b'"' + data[at:]
    elif kind == "digit to letter":
        digits = [i for i, b in enumerate(data) if chr(b).isdigit()]
        i = draw(st.sampled_from(digits))
        data = data[:i] + draw(st.sampled_from((b"O", b"l", b"e", b"x"))) + data[i + 1 :]
    elif kind == "nul":
        data = data[:at] + b"\x00" + data[at:]
    else:
        noise = draw(st.binary(min_size=1, max_size=12))
        data = data[:at] + noise + data[at + draw(st.integers(0, 12)) :]
    return name, data, kind


@pytest.fixture(scope="module")
def damaged_db(workdir) -> Iterator[duckdb.DuckDBPyConnection]:
    """One database holding ``BASE`` for every example: a rejection must change nothing in it,
    whatever earlier accepted mutations loaded."""
    connection = seeded_connection(workdir)
    yield connection
    connection.close()


def _assert_structured(result: IngestResult) -> None:
    assert isinstance(result, IngestResult)
    assert result.outcome in ("accepted", "rejected")
    if result.accepted:
        assert result.rows > 0 and result.slices and not result.problems
        return
    assert result.problems, result
    for problem in result.problems:
        assert problem.rule.strip(), problem
        assert problem.row is None or problem.row >= 1, problem
        # A problem in a cell names its row; DuckDB's raw "could not be read" never reaches
        # the user for a damaged CSV (regression: mixed line endings, a lone CR).
        assert problem.column is None or problem.row is not None, problem
        assert "could not be read" not in problem.rule, problem
    assert result.message.endswith("nothing was stored")


@settings(PROFILE, max_examples=max(PROFILE.max_examples, 60))
@given(case=mutated(), delimiter=st.sampled_from((None, None, ",", ";")))
def test_mutated_files_load_cleanly_or_are_rejected_without_change(
    damaged_db, workdir, case, delimiter
):
    name, data, _kind = case
    path = workdir / f"mutated_{name}.csv"
    path.write_bytes(data)
    before = snapshot(damaged_db)
    log_before = damaged_db.execute("SELECT count(*) FROM upload_log").fetchone()[0]
    result = ingest_file(damaged_db, path, delimiter=delimiter)  # must not raise
    _assert_structured(result)
    assert damaged_db.execute("SELECT count(*) FROM upload_log").fetchone()[0] == log_before + 1
    if not result.accepted:
        assert snapshot(damaged_db) == before
    else:
        # What was loaded is exactly the file's slices of its dataset: re-loading is a no-op.
        after = snapshot(damaged_db)
        assert ingest_file(damaged_db, path, delimiter=delimiter).accepted
        assert snapshot(damaged_db) == after
