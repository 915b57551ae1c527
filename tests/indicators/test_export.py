"""CSV export: text that a spreadsheet would run as a formula is neutralised; numbers stay numbers."""

from __future__ import annotations

import csv
import io
import random

import duckdb
import numpy as np
import pandas as pd
import pytest

from indicators import export
from indicators.export import neutralise, neutralise_cell, to_csv_bytes


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        # and the formula after the tab or carriage return, where a field or row can begin
        ("\t=1", "'\t'=1"),
        ("\r=1", "'\r'=1"),
        ("North", "North"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_text_cells(cell, expected):
    assert neutralise_cell(cell) == expected


@pytest.mark.parametrize("number", [-3.5, 0, 12, -7, float("nan")])
def test_numbers_are_untouched(number):
    out = neutralise_cell(number)
    assert out is number or (np.isnan(out) and np.isnan(number))


def test_frame_keeps_numeric_dtypes_and_quotes_text_columns():
    frame = pd.DataFrame({
        "department": ["=cmd|' /C calc'!A0", "North", None],
        "value": [-1.5, 2.0, np.nan],
        "count": [-1, 2, 3],
    })
    out = neutralise(frame)
    assert out["department"].tolist()[:2] == ["'=cmd|' /C calc'!A0", "North"]
    assert pd.isna(out["department"].iloc[2])
    assert out["value"].dtype == "float64" and out["count"].dtype == "int64"
    assert frame["department"].iloc[0].startswith("=")  # the input is not modified


def test_column_names_are_neutralised_too():
    assert list(neutralise(pd.DataFrame({"=x": [1]})).columns) == ["'=x"]


def test_csv_round_trip_reads_negative_numbers_back_as_numbers():
    frame = pd.DataFrame({"department": ["-North", "South"], "value": [-12.5, 3.0]})
    text = to_csv_bytes(frame).decode("utf-8")
    assert text.splitlines() == ["department,value", "'-North,-12.5", "South,3.0"]
    back = pd.read_csv(io.StringIO(text))
    assert back["value"].tolist() == [-12.5, 3.0]


# --- the same rules in SQL (report and route write their cells in DuckDB) -------------------

HOSTILE = [
    "=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "\t", "\r", "\r\n@x", "x;=1+1;",
    "x,=1+1,", "x\t@A1", 'x;"=1+1"', "x; =1+1", ' "=x', "  @a", "=;=;=", ";;=", "a,\"=b",
    "=\t=", "x\r-1", "é=1", "ü;+2", " ; - ", '""=', "=a\n=b\n", "-", "--", "+-@=", "\t\t=",
    "x\t\r=y", "North", "", "a=b", "-5", "'=x", 'say "hi"', "a,b", "a\rb", "a\nb", "#x",
]


def _random_cells(n: int) -> list[str]:
    rng = random.Random(1)
    alphabet = ["=", "+", "-", "@", "\t", "\r", "\n", ",", ";", " ", '"', "'", "a", "1", "é"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(n)]


def _in_sql(expression: str, cells: list[str]) -> list[str]:
    """``expression`` of each cell (of column ``c``), computed by DuckDB."""
    con = duckdb.connect()
    try:
        found = dict(con.execute(
            f"SELECT c, {expression} FROM (SELECT unnest(CAST($cells AS VARCHAR[])) AS c)",
            {"cells": cells, **export.SQL_PARAMETERS},
        ).fetchall())
    finally:
        con.close()
    return [found[c] for c in cells]


def _python_field(cell: str) -> str:
    """``cell`` as Python's CSV writer writes it as a field (rows ending in CRLF)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([cell, ""])
    return out.getvalue()[: -len(",\r\n")]


def test_sql_and_python_neutralise_the_same_cells():
    cells = HOSTILE + _random_cells(5_000)
    assert _in_sql(export.neutralise_sql("c"), cells) == [neutralise_cell(c) for c in cells]


def test_sql_quotes_fields_as_pythons_csv_writer():
    cells = HOSTILE + _random_cells(5_000)
    written = _in_sql(export.csv_field_sql(export.neutralise_sql("c")), cells)
    assert written == [_python_field(neutralise_cell(c)) for c in cells]


def test_sql_keeps_null():
    con = duckdb.connect()
    try:
        (got,) = con.execute(
            f"SELECT {export.csv_field_sql(export.neutralise_sql('CAST(NULL AS VARCHAR)'))}",
            export.SQL_PARAMETERS).fetchone()
    finally:
        con.close()
    assert got is None
