"""CSV export that a spreadsheet cannot turn into a formula, whatever separator it splits on.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel, LibreOffice and Google Sheets as a formula (CSV injection, OWASP).  Department
names, file names and complaint categories are user data, so every exported table goes
through :func:`neutralise` first: such a cell gets a single quote, which the spreadsheet
shows as text.  Numbers are never touched — ``-3.5`` stays the number ``-3.5``.

The file is written with ``,``, but a spreadsheet of a decimal-comma locale splits it on ``;``
(some on tabs), and quoting does not help then: ``-1,"x;=1+1"`` split on ``;`` gives the
fields ``-1,"x`` and ``=1+1"``.  So a formula start is neutralised wherever a field can begin
under any separator — at the start of the cell and after every ``,``, ``;``, tab, carriage
return and line feed (past any spaces or double quotes a spreadsheet may strip):
``x;=1+1;`` is written ``x;'=1+1;``.  Quoting every text cell instead would leave that field
live, since the quote no longer starts a field once the separator changes.

Examples
--------
>>> neutralise_cell("=1+1")
"'=1+1"
>>> neutralise_cell("x;=1+1;")
"x;'=1+1;"
>>> neutralise_cell(-3.5)
-3.5
>>> to_csv_bytes(pd.DataFrame({"department": ["@North"], "value": [-1.0]})).decode()
"department,value\\r\\n'@North,-1.0\\r\\n"

The same rule in SQL: :func:`neutralise_sql` writes it as a DuckDB expression (RE2 has no
look-behind, so the separator is matched and written back), and :func:`csv_field_sql` quotes a
field as Python's CSV writer does, for output whose cells DuckDB writes itself (``report`` and
``route``); a test checks that SQL and Python agree on a list of hostile cells.

Rows end in CRLF (RFC 4180): Python 3.11's CSV writer quotes a cell holding a line-break
character only if that character is part of the row terminator, and a bare carriage return in an
unquoted cell would start a new row in the spreadsheet — whose first cell (``=1`` in ``'\\r=1``)
would then be a formula.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""What a cell must not start with: the formula characters, and a tab or carriage return."""
SEPARATORS = ",;\t\r\n"
"""Where a spreadsheet may start a new field or row inside a cell: list separators, line breaks."""

_FIELD_FORMULA = re.compile(rf'(?:^|(?<=[{re.escape(SEPARATORS)}]))([ "]*)(?=[=+\-@])')
"""A formula character at a field start (the cell's, or after a separator), past spaces/quotes."""


SQL_FORMULA_PATTERN = rf'(^|[{SEPARATORS}])([ "]*)([=+\-@])'
""":data:`_FIELD_FORMULA` for DuckDB's ``regexp_replace`` (RE2): the separator before a formula
character is matched (group 1) instead of looked behind, and written back by
:data:`SQL_FORMULA_REPLACEMENT` (the tab, CR and LF in the class are the characters
themselves)."""
SQL_FORMULA_REPLACEMENT = r"\1\2'\3"
"""The separator, the spaces or quotes, a ``'``, the formula character."""
SQL_PARAMETERS: dict[str, str] = {
    "formula_pattern": SQL_FORMULA_PATTERN,
    "formula_replacement": SQL_FORMULA_REPLACEMENT,
}
"""The named parameters (``$formula_pattern``, ``$formula_replacement``) that
:func:`neutralise_sql`'s expression reads: bind them with the statement."""


def neutralise_cell(value: Any) -> Any:
    """``value`` with a ``'`` before each formula start a spreadsheet could see; else unchanged.

    Only text is rewritten.  The ``'`` goes before every ``=``, ``+``, ``-`` or ``@`` that
    begins the cell or follows one of :data:`SEPARATORS`, and in front of a cell that begins
    with a tab or a carriage return.
    """
    if not isinstance(value, str):
        return value
    out = _FIELD_FORMULA.sub(r"\1'", value)
    return "'" + out if out.startswith(("\t", "\r")) else out


def neutralise_sql(expression: str) -> str:
    """The DuckDB SQL expression of :func:`neutralise_cell` applied to the VARCHAR
    ``expression`` (a column or expression of the code, never data); NULL stays NULL.

    The statement binds :data:`SQL_PARAMETERS` (named parameters).  Whether the cell begins
    with a tab or a carriage return is read on the original text: the replacement changes a
    cell's first character only when that is a formula character.
    """
    return (
        f"(CASE WHEN left({expression}, 1) IN (chr(9), chr(13)) THEN '''' ELSE '' END"
        f" || regexp_replace({expression}, $formula_pattern, $formula_replacement, 'g'))"
    )


def csv_field_sql(expression: str) -> str:
    """The DuckDB SQL expression of the VARCHAR ``expression`` as one CSV field, quoted as
    Python's CSV writer quotes it with CRLF row ends (``QUOTE_MINIMAL``): in double quotes, each
    ``"`` doubled, when it holds a ``,``, a ``"``, a carriage return or a line feed; else as it
    is.  NULL stays NULL.  Neutralise first: ``csv_field_sql(neutralise_sql(x))``."""
    return (
        f"(CASE WHEN regexp_matches({expression}, '[,\"\\r\\n]')"
        f" THEN '\"' || replace({expression}, '\"', '\"\"') || '\"' ELSE {expression} END)"
    )


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
