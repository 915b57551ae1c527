"""A file that is not clean, explained: staged again with the text and typed value of every
cell, every broken rule counted over the whole file (:class:`RuleSummary`) and its first rows
listed (:class:`Problem`, the value shown being the cell's text, never the raw line).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path

import duckdb

from indicators.ingest.bytescan import MAX_LINE_BYTES
from indicators.ingest.cells import stage_columns
from indicators.ingest.dates import DateFormat, look_alike
from indicators.ingest.problems import (
    FIRST_ROWS,
    MAX_PROBLEMS,
    Problem,
    RuleSummary,
    sort_summary,
)
from indicators.ingest.read_csv import file_rows, lost_records
from indicators.ingest.rules import UNREADABLE_DATE, Rule, source_rules, unique_sets
from indicators.ingest.source import Source
from indicators.ingest.sql import REJECTS, STAGE, Params, drop_rejects, quote
from indicators.schema import (
    Dataset,
    normalise_header,
)


def stage(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    dataset: Dataset,
    positions: dict[str, int],
    *,
    date_format: DateFormat | None,
    time_zone: str,
) -> int:
    """Create the full staging table (one pass over the file); returns its row count.

    Text and typed value of every column: what :func:`validate` needs to report problems.
    """
    p = Params()
    raw, typed = stage_columns(
        source, dataset, positions, p, date_format=date_format, time_zone=time_zone
    )
    if source.csv_path is not None:
        drop_rejects(con)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT *, {', '.join(typed)} "
        f"FROM (SELECT {', '.join(raw)} FROM {source.from_sql})",
        p.values,
    )
    return con.execute("SELECT count(*) FROM ingest_stage").fetchone()[0]



_STRUCTURAL_RULES = {
    "MISSING COLUMNS": "too few values in the row",
    "TOO MANY COLUMNS": "too many values in the row",
    "UNQUOTED VALUE": "bad quoting",
    "UNTERMINATED QUOTES": "bad quoting",
    "LINE SIZE OVER MAXIMUM": f"line too long: the limit is {MAX_LINE_BYTES / 1e6:g} MB a line",
    "INVALID ENCODING": "not valid UTF-8: name the file's encoding (cp1251 or latin-1)",
}
"""DuckDB's error types for a row it could not split, as the rule a person reads (the summary
line's; a row's own rule adds what is particular to it)."""
_RAGGED = ("MISSING COLUMNS", "TOO MANY COLUMNS")
_FOUND = re.compile(r"Found: (\d+)")
_CELL_BYTES = 1 << 16
"""Bytes read from a record's start to find the cell holding an invalid byte."""
_SHOWN = 200
"""Characters of a cell shown as a problem's value."""


def _cell_with_bad_byte(path: Path, offset: int, index: int, delimiter: str) -> str | None:
    """The text of cell ``index`` of the record starting at byte ``offset``, its bytes that are
    not UTF-8 shown escaped (``Caf\\xe9``); None if it cannot be found."""
    with path.open("rb") as f:
        f.seek(offset)
        chunk = f.read(_CELL_BYTES)
    text = chunk.decode("utf-8", "surrogateescape")
    try:
        fields = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return None
    if not 0 <= index < len(fields):
        return None
    cell = fields[index].strip().encode("utf-8", "surrogateescape")
    return cell.decode("utf-8", "backslashreplace")[:_SHOWN]


def _structural_rule(error_type: str, message: str, found: list[int], header: int) -> str:
    """A row's own rule: how many values it holds, or DuckDB's words on its quoting."""
    base = _STRUCTURAL_RULES.get(error_type, error_type.lower())
    if error_type in _RAGGED and found:
        values = min(found) if error_type == "MISSING COLUMNS" else max(found)
        return f"{base}: {values} value{'' if values == 1 else 's'}, the header has {header}"
    if error_type in _RAGGED or error_type == "INVALID ENCODING":
        return base
    return f"{base} ({message})"


def _structural_problems(
    con: duckdb.DuckDBPyConnection, source: Source
) -> tuple[list[Problem], list[RuleSummary]]:
    """Rows DuckDB could not split into the header's columns (they are not in the stage), and
    their summary: one line per kind (a cell not UTF-8 per column)."""
    if source.csv_path is None:
        return [], []
    rows = con.execute(
        f"SELECT line, line_byte_position, column_idx, column_name, error_type, error_message "
        f"FROM temp.{REJECTS} ORDER BY line, column_idx"
    ).fetchall()
    lines: dict[int, list[tuple]] = {}
    for row in rows:
        lines.setdefault(int(row[0]), []).append(row)
    problems, groups = [], {}
    for line, entries in lines.items():
        _, offset, index, col, error_type, message = entries[0]
        column = None
        if col and col.startswith("c") and col[1:].isdigit() and int(col[1:]) < len(source.header):
            column = normalise_header(source.header[int(col[1:])])
        found = [
            int(m.group(1))
            for e in entries
            if e[4] == error_type and (m := _FOUND.search(e[5] or ""))
        ]
        rule = _structural_rule(error_type, message, found, len(source.header))
        value = None
        # Only rows that can be listed (the first MAX_PROBLEMS) have their cell read.
        listed = len(problems) < MAX_PROBLEMS
        if listed and error_type == "INVALID ENCODING" and offset is not None and index:
            value = _cell_with_bad_byte(source.csv_path, int(offset), int(index) - 1, source.delimiter)
        problems.append(Problem(source.name, line, column, value, rule))
        key = (
            column if error_type == "INVALID ENCODING" else None,
            _STRUCTURAL_RULES.get(error_type, error_type.lower()),
        )
        groups.setdefault(key, []).append(line)
    source.rejected_records = list(lines)
    summary = [
        RuleSummary(column, rule, len(found), tuple(found[:FIRST_ROWS]))
        for (column, rule), found in groups.items()
    ]
    return problems, summary



# --- validation ----------------------------------------------------------------------------


def _merged(summary: Iterable[RuleSummary]) -> list[RuleSummary]:
    """One line per (column, rule), most frequent first (two rules may read alike)."""
    merged: dict[tuple[str | None, str], RuleSummary] = {}
    for s in summary:
        if (s.column, s.rule) in merged:
            before = merged[(s.column, s.rule)]
            rows = tuple(sorted({*before.first_rows, *s.first_rows}))[:FIRST_ROWS]
            s = RuleSummary(s.column, s.rule, before.count + s.count, rows)
        merged[(s.column, s.rule)] = s
    return sort_summary(merged.values())


def _summary_rule(con: duckdb.DuckDBPyConnection, rule: Rule, values: list[str | None]) -> str:
    """The rule as its summary line says it: for dates no format reads, which format the
    first of them look like (:func:`indicators.ingest.dates.look_alike`), if any."""
    if not rule.rule.startswith(UNREADABLE_DATE):
        return rule.rule
    hint = look_alike(con, [v for v in values if v is not None])
    return rule.rule if hint is None else f"{UNREADABLE_DATE}; {hint}"


def validate(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    dataset: Dataset,
    positions: dict[str, int],
    *,
    date_format: str,
) -> tuple[list[Problem], int, list[RuleSummary]]:
    """Every problem (up to the cap), how many there are in all, and the summary: per
    (column, rule) the count over the whole file and the first rows, most frequent first."""
    structural, summary = _structural_problems(con, source)
    if source.csv_path is not None:
        (staged,) = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()
        lost = lost_records(source, staged + len(source.rejected_records))
        structural += lost
        summary += [RuleSummary(p.column, p.rule, 1) for p in lost]
    rules = source_rules(source, dataset, positions, date_format=date_format)
    uniques = [cols for cols in unique_sets(dataset) if all(c in positions for c in cols)]
    # count(*) FILTER, not count_if: DuckDB 2.0's count_if gives NULL when every input is NULL.
    counts = [f"count(*) FILTER (WHERE {r.violated})" for r in rules]
    for cols in uniques:
        key = ", ".join(quote("v_" + c) for c in cols)
        present = " AND ".join(f"{quote('v_' + c)} IS NOT NULL" for c in cols)
        counts.append(
            f"count(*) FILTER (WHERE {present}) - count(DISTINCT ({key})) FILTER (WHERE {present})"
        )
    params: dict[str, object] = {}
    for r in rules:
        params.update(r.params)
    totals = con.execute(f"SELECT {', '.join(counts)} FROM {STAGE}", params).fetchone()
    total = len(structural) + sum(totals)
    if total == 0:
        return [], 0, []

    found: list[tuple[int, str, str | None, str, int | None]] = []
    # Per summary line: column, rule, count and the rowids of its first rows.
    counted: list[tuple[str, str, int, list[int]]] = []
    for rule, count in zip(rules, totals, strict=False):
        if not count:
            continue
        other = f", {quote('t_' + rule.other)}" if rule.other else ", NULL"
        hits = con.execute(
            f"SELECT rowid, {quote('t_' + rule.column)}{other} FROM {STAGE} "
            f"WHERE {rule.violated} ORDER BY rowid LIMIT {MAX_PROBLEMS}",
            rule.params,
        ).fetchall()
        for rowid, value, other_value in hits:
            text = (
                rule.rule if other_value is None else f"{rule.rule} ({rule.other} = {other_value})"
            )
            found.append((rowid, rule.column, value, text, None))
        text = _summary_rule(con, rule, [value for _, value, _ in hits])
        counted.append((rule.column, text, count, [h[0] for h in hits[:FIRST_ROWS]]))
    for cols, count in zip(uniques, totals[len(rules) :], strict=True):
        if not count:
            continue
        key = ", ".join(quote("v_" + c) for c in cols)
        present = " AND ".join(f"{quote('v_' + c)} IS NOT NULL" for c in cols)
        label = cols[0] if len(cols) == 1 else "(" + ", ".join(cols) + ")"
        hits = con.execute(
            f"SELECT rowid, first, v FROM (SELECT rowid, min(rowid) OVER (PARTITION BY {key}) "
            f"AS first, concat_ws(' ', {', '.join(quote('t_' + c) for c in cols)}) AS v "
            f"FROM {STAGE} WHERE {present}) WHERE rowid > first ORDER BY rowid "
            f"LIMIT {MAX_PROBLEMS}"
        ).fetchall()
        for rowid, first, value in hits:
            found.append((rowid, cols[0], value, f"duplicate {label}", first))
        counted.append((cols[0], f"duplicate {label}", count, [h[0] for h in hits[:FIRST_ROWS]]))
    rows = file_rows(source, {f[0] for f in found} | {f[4] for f in found if f[4] is not None})
    problems = structural + [
        Problem(
            source.name,
            rows.get(rowid),
            column,
            "" if value is None else value,
            text if first is None else f"{text} (first in row {rows.get(first)})",
        )
        for rowid, column, value, text, first in found
    ]
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    summary += [
        RuleSummary(
            column, text, count, tuple(rows[r] for r in rowids if rows.get(r) is not None)
        )
        for column, text, count, rowids in counted
    ]
    return problems[:MAX_PROBLEMS], total, _merged(summary)
