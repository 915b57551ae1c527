"""CSV export that a spreadsheet cannot turn into a formula.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel, LibreOffice and Google Sheets as a formula (CSV injection, OWASP).  Department
names, file names and complaint categories are user data, so every exported table goes
through :func:`neutralise` first: such a cell gets a leading single quote, which the
spreadsheet shows as text.  Numbers are never touched — ``-3.5`` stays the number ``-3.5``.

Examples
--------
>>> neutralise_cell("=1+1")
"'=1+1"
>>> neutralise_cell(-3.5)
-3.5
>>> to_csv_bytes(pd.DataFrame({"department": ["@North"], "value": [-1.0]})).decode()
"department,value\\r\\n'@North,-1.0\\r\\n"

Rows end in CRLF (RFC 4180): Python 3.11's CSV writer quotes a cell holding a line-break
character only if that character is part of the row terminator, and a bare carriage return in an
unquoted cell would start a new row in the spreadsheet — whose first cell (``=1`` in ``'\\r=1``)
would then be a formula.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run; else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are safe to open as CSV.

    Only text columns are rewritten; numeric, boolean and datetime columns keep their dtype.
    """
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_string_dtype(column) or column.dtype == object:
            out[name] = column.map(neutralise_cell, na_action="ignore")
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV (no index), neutralised against formula injection."""
    return neutralise(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8")
