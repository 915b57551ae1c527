"""A CSV export opened with another list separator (``;`` or tab) has no live formula either.

Spreadsheets in decimal-comma locales split a CSV on ``;``; some split on tabs.  A department
``x;=1+1;`` written for ``,`` then gives a cell ``=1+1``.  Every text cell is neutralised after
each separator and line break as well as at its start, so whichever separator the spreadsheet
picks, no field starts with ``=``, ``+``, ``-`` or ``@`` — except a number, which stays a number.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from indicators import export
from indicators.report import run_report_cli
from tests.indicators.engine_rows import make_db, purchase

SEPARATORS = (",", ";", "\t")
HOSTILE = (
    "x;=1+1;", "x,=1+1,", "x\t=1+1", "x;+1", "x;-2+3", "x;@SUM(A1)", 'x;"=1+1"', "x; =1+1",
    "x\r\n=1+1", "x\n@A1", "=1+1", "North; Sales, Region",
)


def fields(text: str, separator: str) -> list[str]:
    """Every field of the CSV as a spreadsheet splitting on ``separator`` would see it."""
    return [field for row in csv.reader(io.StringIO(text, newline=""), delimiter=separator)
            for field in row]


def live(field: str) -> bool:
    """A field a spreadsheet would run: it starts with a formula character and is no number."""
    start = field.lstrip(' "')
    if not start.startswith(("=", "+", "-", "@")):
        return False
    try:
        float(start)
    except ValueError:
        return True
    return False


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("x;=1+1;", "x;'=1+1;"),
        ("x,=1+1,", "x,'=1+1,"),
        ("x\t=1+1", "x\t'=1+1"),
        ("a;+1,-2\t@3", "a;'+1,'-2\t'@3"),
        ('x;"=1+1"', "x;\"'=1+1\""),  # a quote the spreadsheet strips does not hide it
        ("x; =1+1", "x; '=1+1"),  # nor does a space a spreadsheet may trim
        ("x\r\n=1+1", "x\r\n'=1+1"),
        ("\t=1", "'\t'=1"),  # split on tabs, '\t=1 would give a field =1
        ("=1+1", "'=1+1"),
        ("a=b;c", "a=b;c"),
        ("North; Sales, Region", "North; Sales, Region"),
    ],
)
def test_a_formula_after_any_separator_is_neutralised(cell, expected):
    assert export.neutralise_cell(cell) == expected


@pytest.mark.parametrize("separator", SEPARATORS, ids=["comma", "semicolon", "tab"])
def test_the_download_opened_with_any_separator_has_no_live_field(separator):
    frame = pd.DataFrame({
        "department": list(HOSTILE),
        "value": [-5.0] * len(HOSTILE),
        "count": [-3] * len(HOSTILE),
    })
    text = export.to_csv_bytes(frame).decode("utf-8")
    seen = fields(text, separator)
    assert [f for f in seen if live(f)] == []
    assert len(seen) >= len(HOSTILE)  # the file was read, not one empty field


def test_numbers_stay_numbers_when_read_back_with_the_comma():
    frame = pd.DataFrame({"department": ["x;=1+1;", "North"], "value": [-5.0, 2.5],
                          "count": [-3, 4]})
    back = pd.read_csv(io.StringIO(export.to_csv_bytes(frame).decode("utf-8")))
    assert back["department"].tolist() == ["x;'=1+1;", "North"]
    assert back["value"].tolist() == [-5.0, 2.5] and back["value"].dtype == "float64"
    assert back["count"].tolist() == [-3, 4] and back["count"].dtype == "int64"


@pytest.mark.parametrize("separator", SEPARATORS, ids=["comma", "semicolon", "tab"])
def test_the_report_opened_with_any_separator_has_no_live_field(tmp_path: Path, separator):
    db = make_db(tmp_path / "h.duckdb", {"purchases": [
        purchase("p1", "2025-01-05 10:00", "c1", "x;=1+1;", 2.5),
        purchase("p2", "2025-01-05 11:00", "c2", "y\t@SUM(A1)", 1.5),
    ]})
    out, err = io.StringIO(), io.StringIO()
    code = run_report_cli(db, month="2025-01", department=None, fmt="csv", out=out, err=err)
    assert code == 0, err.getvalue()
    seen = fields(out.getvalue(), separator)
    assert [f for f in seen if live(f)] == []
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert {r["department"] for r in rows} == {"All", "x;'=1+1;", "y\t'@SUM(A1)"}
    revenue = {r["department"]: r["value"] for r in rows if r["indicator"] == "revenue"}
    assert revenue["All"] == "4"  # 2.5 + 1.5, still a number
