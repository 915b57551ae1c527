"""Parquet files: the typed columns rendered as text; nested, binary and non-finite values
rejected with their rows.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb

from indicators.ingest.problems import MAX_PROBLEMS, Problem, Rejected, reject_one
from indicators.ingest.recognise import recognise
from indicators.ingest.source import FLOAT_TYPES, Source, describe, position_names, typed_source
from indicators.ingest.sql import PARQUET

_PARQUET_ROWS = "read_parquet($path, file_row_number = true)"
"""The Parquet file with each row's position in it (``file_row_number``, from 0) last."""
_NOT_FINITE = "must be a finite number"
"""The rule for NaN and infinities (the same words as the CSV rule for non-finite numbers)."""
_EXPECTED = {
    "id": "text",
    "text": "text",
    "choice": "text",
    "integer": "a number",
    "number": "a number",
    "money": "a number",
    "month": "a month",
    "timestamp": "a date/time",
}


def _nested_or_binary(sql_type: str) -> str | None:
    """The Parquet kind of a column no contract column may read (nested or binary), else None."""
    if sql_type == "BLOB":
        return "BINARY"
    if sql_type.endswith("]"):
        return "LIST"
    for kind in ("STRUCT", "MAP", "UNION"):
        if sql_type.startswith(kind + "("):
            return kind
    return None


def _parquet_problems(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    described: list[tuple[str, str]],
    params: dict[str, object],
) -> list[Problem]:
    """A contract column of a nested or binary type, and every NaN or infinity in one.

    Rendered as text, a LIST, STRUCT or MAP value became ``[a]`` or ``{'x': 1}`` and a BINARY
    one escaped bytes, silently; a NaN gave DuckDB's raw cast error.  Header problems are
    left to the load, which reports them.
    """
    try:
        dataset, positions, _ = recognise(source)
    except Rejected:
        return []
    problems = []
    for column in dataset.columns:
        if column.name not in positions:
            continue
        sql_type = described[positions[column.name]][1]
        kind = _nested_or_binary(sql_type)
        if kind is not None:
            expected = _EXPECTED[column.kind]
            problems.append(
                Problem(
                    source.name,
                    1,
                    column.name,
                    sql_type,
                    f"a {kind} column in the Parquet file, where {column.name} must hold "
                    f"{expected}; write it as a plain "
                    f"{'string' if expected == 'text' else expected.split()[-1]} column",
                )
            )
        elif sql_type in FLOAT_TYPES:
            problems += _non_finite(con, source, column.name, positions[column.name], params)
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    return problems[:MAX_PROBLEMS]


def _non_finite(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    column: str,
    position: int,
    params: dict[str, object],
) -> list[Problem]:
    """The first rows (up to the cap) whose value in the column at ``position`` is not finite.

    An aggregate's FILTER, not a WHERE: DuckDB 2.0 pushes a WHERE into the Parquet reader,
    whose row-group statistics leave NaN out, and the rows holding NaN are skipped unread.
    """
    aliases = ", ".join(position_names(len(source.header)))
    c = f"c{position}"
    (found,) = con.execute(
        f"SELECT min(struct_pack(r := file_row_number, v := {c}), {MAX_PROBLEMS}) "
        f"FILTER (WHERE NOT isfinite({c})) FROM {_PARQUET_ROWS} AS src({aliases})",
        params,
    ).fetchone()
    return [
        Problem(
            source.name,
            int(hit["r"]) + 2,
            column,
            "NaN" if math.isnan(hit["v"]) else ("inf" if hit["v"] > 0 else "-inf"),
            _NOT_FINITE,
        )
        for hit in found or []
    ]


def parquet_source(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> Source:
    params: dict[str, object] = {"path": str(path)}
    try:
        described = describe(con, PARQUET, params)
    except duckdb.Error as err:
        raise reject_one(name, f"not a readable Parquet file: {err}") from None
    source = typed_source(name, [column for column, _ in described], described, PARQUET, params)
    problems = _parquet_problems(con, source, described, params)
    if problems:
        raise Rejected(problems)
    return source
