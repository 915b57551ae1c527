"""CSV export: text that a spreadsheet would run as a formula is neutralised; numbers stay numbers."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

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
