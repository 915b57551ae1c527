"""A file that is not clean, explained: staged again with the text and typed value of every
cell, every broken rule counted and its first rows listed.
"""

from __future__ import annotations

import duckdb

from indicators.ingest.bytescan import MAX_LINE_BYTES
from indicators.ingest.cells import stage_columns
from indicators.ingest.dates import DateFormat
from indicators.ingest.problems import MAX_PROBLEMS, Problem
from indicators.ingest.read_csv import file_rows, lost_records
from indicators.ingest.rules import source_rules, unique_sets
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


def _structural_problems(con: duckdb.DuckDBPyConnection, source: Source) -> list[Problem]:
    """Rows DuckDB could not split into the header's columns (they are not in the stage)."""
    if source.csv_path is None:
        return []
    rows = con.execute(
        f"SELECT line, column_name, error_type, csv_line, error_message FROM temp.{REJECTS} "
        f"ORDER BY line"
    ).fetchall()
    problems, records = [], []
    for line, col, error_type, csv_line, message in rows:
        if line in records:
            continue
        records.append(line)
        column = None
        if col and col.startswith("c") and col[1:].isdigit() and int(col[1:]) < len(source.header):
            column = normalise_header(source.header[int(col[1:])])
        rule = f"{_STRUCTURAL_RULES.get(error_type, error_type.lower())} ({message})"
        problems.append(
            Problem(source.name, int(line), column, (csv_line or "").strip()[:200], rule)
        )
    source.rejected_records = records
    return problems



# --- validation ----------------------------------------------------------------------------


def validate(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    dataset: Dataset,
    positions: dict[str, int],
    *,
    date_format: str,
) -> tuple[list[Problem], int]:
    """Every problem (up to the cap) and how many there are in all."""
    structural = _structural_problems(con, source)
    if source.csv_path is not None:
        (staged,) = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()
        structural += lost_records(source, staged + len(source.rejected_records))
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
        return [], 0

    found: list[tuple[int, str, str | None, str, int | None]] = []
    for rule, count in zip(rules, totals, strict=False):
        if not count:
            continue
        other = f", {quote('t_' + rule.other)}" if rule.other else ", NULL"
        for rowid, value, other_value in con.execute(
            f"SELECT rowid, {quote('t_' + rule.column)}{other} FROM {STAGE} "
            f"WHERE {rule.violated} ORDER BY rowid LIMIT {MAX_PROBLEMS}",
            rule.params,
        ).fetchall():
            text = (
                rule.rule if other_value is None else f"{rule.rule} ({rule.other} = {other_value})"
            )
            found.append((rowid, rule.column, value, text, None))
    for cols, count in zip(uniques, totals[len(rules) :], strict=True):
        if not count:
            continue
        key = ", ".join(quote("v_" + c) for c in cols)
        present = " AND ".join(f"{quote('v_' + c)} IS NOT NULL" for c in cols)
        label = cols[0] if len(cols) == 1 else "(" + ", ".join(cols) + ")"
        for rowid, first, value in con.execute(
            f"SELECT rowid, first, v FROM (SELECT rowid, min(rowid) OVER (PARTITION BY {key}) "
            f"AS first, concat_ws(' ', {', '.join(quote('t_' + c) for c in cols)}) AS v "
            f"FROM {STAGE} WHERE {present}) WHERE rowid > first ORDER BY rowid "
            f"LIMIT {MAX_PROBLEMS}"
        ).fetchall():
            found.append((rowid, cols[0], value, f"duplicate {label}", first))
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
    return problems[:MAX_PROBLEMS], total
