"""SQL helpers for the loader: named parameters, quoted identifiers from the schema's fixed
lists, and the names of the temporary tables a load uses.
"""

from __future__ import annotations

import duckdb

from indicators.schema import (
    DATASETS,
    Dataset,
)

STAGE = "ingest_stage"
SLICES = "ingest_slices"
FRAME = "ingest_frame"
REJECTS = "ingest_reject_errors"
REJECT_SCANS = "ingest_reject_scans"
PARQUET = "read_parquet($path)"

class Params:
    """Named SQL parameters collected while a statement is built (values never enter SQL text)."""

    def __init__(self, prefix: str = "p") -> None:
        self.prefix = prefix
        self.values: dict[str, object] = {}

    def __call__(self, value: object) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def quote(name: str) -> str:
    """Quote an identifier taken from the schema's fixed lists."""
    return '"' + name + '"'


def table_name(dataset: Dataset) -> str:
    """The quoted name of a dataset's table — only a dataset of :data:`schema.DATASETS`."""
    if DATASETS.get(dataset.name) is not dataset:
        raise ValueError(f"not a dataset of the schema: {dataset.name!r}")
    return quote(dataset.name)



def drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the previous read's rejected rows (DuckDB appends to its rejects tables)."""
    con.execute("DROP TABLE IF EXISTS temp.ingest_reject_errors")
    con.execute("DROP TABLE IF EXISTS temp.ingest_reject_scans")
