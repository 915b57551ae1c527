"""What every reader yields (:class:`Source`): the file's header and a relation of text
columns ``c0 … cN``; typed relations (Parquet, DataFrames) rendered as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from indicators.ingest.problems import FileWarning
from indicators.ingest.sql import FRAME, PARQUET

# The typed relations a source may read, each with its DESCRIBE written out (no SQL is built
# from a relation's text).
_DESCRIBE = {
    PARQUET: "DESCRIBE SELECT * FROM read_parquet($path)",
    FRAME: "DESCRIBE SELECT * FROM ingest_frame",
}

# --- sources: a file's header plus a FROM clause yielding VARCHAR columns c0..cN ----------


@dataclass
class Source:
    name: str
    header: list[str]
    from_sql: str
    params: dict[str, object]
    delimiter: str = ","
    csv_path: Path | None = None
    """Set for CSV text read by DuckDB: structural errors come from its rejects table."""
    rejected_records: list[int] = field(default_factory=list)
    may_hold_controls: bool = True
    """False when a byte scan found no control character or BOM: the per-cell rule is skipped."""
    ascii_only: bool = False
    """True when a byte scan found only ASCII: trimming needs to look for U+0020 alone."""
    edge_spaces: bool = True
    """False when a byte scan of an ASCII file found no space beside a field's edge: no cell
    starts or ends with one, so none needs trimming."""
    records: int | None = None
    """CSV text: its data records by the byte scan, which DuckDB's rows must add up to."""
    warnings: list[FileWarning] = field(default_factory=list)
    """Found while reading (e.g. the encoding named looks wrong); the load reports them."""
    records_exact: bool = False
    """``records`` follows every quote as DuckDB does (else it is counted again on a mismatch)."""

    @property
    def decimal_comma(self) -> bool:
        return self.delimiter == ";"


def position_names(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]



def describe(
    con: duckdb.DuckDBPyConnection, relation: str, params: dict[str, object]
) -> list[tuple[str, str]]:
    """Column names and SQL types of one of the fixed typed relations (:data:`_DESCRIBE`)."""
    return [(row[0], row[1]) for row in con.execute(_DESCRIBE[relation], params).fetchall()]


def typed_source(
    name: str,
    header: list[str],
    described: list[tuple[str, str]],
    relation: str,
    params: dict[str, object],
) -> Source:
    """A typed relation (Parquet, DataFrame) with every column rendered as text.

    A DECIMAL keeps every digit of its scale (``12.50`` as ``DECIMAL(10,2)``), so an amount is
    read exactly.  A float is its shortest round-trip text (DuckDB's cast, like Python's
    ``repr``: ``0.1``, ``0.30000000000000004``), with an exponent only below 1e-4 or from 1e16
    on, where no amount the money rules accept lies; a whole one is its digits up to 1e15.
    """
    texts = []
    for col, (_, sql_type) in zip(position_names(len(header)), described, strict=True):
        if sql_type in FLOAT_TYPES or sql_type.startswith("DECIMAL"):
            # Whole floats (an integer column that held a NaN) read back as "7", not "7.0";
            # NaN and infinities stay text the number rules refuse (a Parquet file's are
            # rejected first, by _parquet_problems). TRY_CAST: DuckDB may evaluate the THEN
            # branch for a whole vector, and CAST(NaN AS BIGINT) is an error.
            texts.append(
                f"CASE WHEN isfinite({col}) AND {col} = trunc({col}) AND abs({col}) < 1e15 "
                f"THEN CAST(TRY_CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) "
                f"END AS {col}"
            )
        else:
            texts.append(f"CAST({col} AS VARCHAR) AS {col}")
    aliases = ", ".join(position_names(len(header)))
    from_sql = f"(SELECT {', '.join(texts)} FROM {relation} AS src({aliases}))"
    return Source(name, header, from_sql, params)


FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")
